"""yaffw's ``/api`` browse, search and resume next to the same query run directly with asyncpg (issue 14).

Usage: ``python loadtests/bench_api.py [--items 20000] [--clients 50] [--seconds 10]`` (``--items 300
--seconds 2`` is a quick smoke run).

The library is seeded as ``bench_jellyfin.py`` seeds it (a throw-away database, rows inserted with
COPY: half films, half shows, streams, images, watch state on one film in ten) and served by one
real api process. For each endpoint, ``--clients`` concurrent clients ask for it for ``--seconds``:

- ``items/name``, ``items/date_added``, ``items/year``: ``GET /api/items?type=movie&limit=100&offset=N
  &sort=...`` (offsets vary, the same sequence on both sides);
- ``search``: ``GET /api/items?q=WORD&limit=100`` (words taken from the library's names);
- ``resume``: ``GET /api/resume?limit=12``;

then the same number of concurrent tasks call the api's own query functions
(``yaffw_api.queries.items.list_items`` / ``resume``: the same SQL, built by the same code) on an
asyncpg pool of the api's size, without HTTP. It prints p50/p95 of both, the ratio of p95s (target
<= 3x) and whether the api's p95 < 50 ms, with the 1-minute load average before and after each figure.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "functions/api"))
sys.path.insert(0, str(ROOT / "loadtests"))

from bench_jellyfin import PASSWORD, drop_db, prepare_db, wait_http  # noqa: E402
from yaffw.db import create_pool  # noqa: E402
from yaffw.local_services import configured_or_private, free_port  # noqa: E402
from yaffw.settings import Settings  # noqa: E402
from yaffw_api.auth import User  # noqa: E402
from yaffw_api.queries import items  # noqa: E402

TARGET_P95_MS = 50.0
TARGET_RATIO = 3.0
POOL_SIZE = 10  # the api's asyncpg pool (yaffw.db.create_pool's default max_size)


def load1() -> str:
    """The 1-minute load average, for printing beside a figure."""
    return f"{os.getloadavg()[0]:.2f}"


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


async def drive(clients: int, seconds: float, call: Callable[[int], Awaitable[None]]) -> list[float]:
    """``clients`` concurrent loops calling ``call(n)`` for ``seconds``; the latencies in seconds."""
    latencies: list[float] = []
    end = time.perf_counter() + seconds

    async def client(c: int) -> None:
        n = c
        while time.perf_counter() < end:
            started = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - started)
            n += clients

    await asyncio.gather(*(client(c) for c in range(clients)))
    return latencies


async def measure(args: argparse.Namespace, base: str, dsn: str, n_movies: int) -> bool:
    """Every endpoint over HTTP, then directly; print the table. True when every target is met."""
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{base}/api/auth/login", json={"username": "bench", "password": PASSWORD})
        r.raise_for_status()
        login = r.json()
    user = User(id=login["user"]["id"], name="bench", is_admin=False, claims=None)  # type: ignore[arg-type]
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    pool = await create_pool(dsn, max_size=POOL_SIZE)
    names = [row["name"] for row in await pool.fetch("SELECT name FROM media_items WHERE type = 'movie' LIMIT 50")]
    words = [w for n in names for w in n.split() if len(w) > 3][:20] or ["a"]
    rng = random.Random(14)
    offsets = [rng.randrange(0, max(1, n_movies - 100)) for _ in range(997)]
    cases: dict[str, Callable[[int], dict[str, str]]] = {
        f"items/{sort}": (
            lambda n, s=sort: {"type": "movie", "limit": "100", "offset": str(offsets[n % 997]), "sort": s}
        )
        for sort in ("name", "date_added", "year")
    }
    cases["search"] = lambda n: {"q": words[n % len(words)], "limit": "100"}
    ok = True
    print(f"\n{'endpoint':<18} {'api p50':>8} {'api p95':>8} {'raw p50':>8} {'raw p95':>8} {'ratio':>6} "
          f"{'api n':>6} {'raw n':>6}  load before/after")  # fmt: skip
    async with aiohttp.ClientSession(headers=headers) as session:

        async def run(label: str, path: str, params: Callable[[int], dict[str, str]],
                      direct: Callable[[int], Awaitable[object]]) -> None:  # fmt: skip
            nonlocal ok

            async def over_http(n: int) -> None:
                async with session.get(base + path, params=params(n)) as resp:
                    await resp.read()
                    assert resp.status == 200, (path, resp.status)

            before = load1()
            api = await drive(args.clients, args.seconds, over_http)
            raw = await drive(args.clients, args.seconds, direct)
            after = load1()
            ratio = pct(api, 0.95) / pct(raw, 0.95)
            met = pct(api, 0.95) < TARGET_P95_MS and ratio <= TARGET_RATIO
            ok = ok and met
            print(f"{label:<18} {pct(api, .5):8.1f} {pct(api, .95):8.1f} {pct(raw, .5):8.1f} {pct(raw, .95):8.1f} "
                  f"{ratio:5.2f}x {len(api):6d} {len(raw):6d}  {before}/{after}{'' if met else '  MISSED'}",
                  flush=True)  # fmt: skip

        for label, params in cases.items():
            await run(label, "/api/items", params,
                      lambda n, p=params: items.list_items(pool, user, items.ItemQuery.from_args(p(n))))  # fmt: skip
        await run("resume", "/api/resume", lambda n: {"limit": "12"}, lambda n: items.resume(pool, user, 12))
    await pool.close()
    print(f"targets: api p95 < {TARGET_P95_MS:.0f} ms and <= {TARGET_RATIO:.0f}x raw (ms; load = 1-minute average)")
    return ok


def main() -> int:
    """Seed, start the api, measure, clean up; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20000, help="items in the library (half films)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per endpoint and side")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    admin_dsn = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    work = Path(tempfile.mkdtemp(prefix="yaffw-bench-api-"))
    admin_dsn, redis_url, services = configured_or_private(admin_dsn, redis_url, work)
    db_name = f"yaffw_bench_api_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    api: subprocess.Popen | None = None
    try:
        started = time.perf_counter()
        dsn, n_movies = asyncio.run(prepare_db(admin_dsn, db_name, args.items))
        print(f"library: {args.items} items ({n_movies} films) inserted in {time.perf_counter() - started:.1f} s")
        port = free_port()
        settings = Settings(database_url=dsn, redis_url=redis_url, redis_prefix=prefix, jwt_secret=uuid.uuid4().hex,
                            host="127.0.0.1", port=port, image_dir=work / "images", state_dir=work / "state",
                            scratch_dir=work / "scratch", log_level="WARNING")  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
        env.update(settings.to_env())
        api = subprocess.Popen([sys.executable, str(ROOT / "functions/api/main.py")], env=env,
                               stdout=(work / "api.log").open("w"), stderr=subprocess.STDOUT)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/readyz", api)
        ok = asyncio.run(measure(args, base, dsn, n_movies))
        print(f"\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1
    finally:
        if api is not None:
            api.terminate()
            try:
                api.wait(30)
            except subprocess.TimeoutExpired:
                api.kill()
        asyncio.run(drop_db(admin_dsn, db_name))
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=prefix + "*", count=1000):
            client.delete(key)
        client.close()
        for service in services:
            service.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
