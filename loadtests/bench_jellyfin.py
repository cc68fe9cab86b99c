"""Jellyfin browse API next to yaffw's own ``/api/items``, measured in the same run (issue 12).

Usage: ``python loadtests/bench_jellyfin.py [--items 20000] [--clients 20] [--seconds 20] [--think 0.5]
[--round-seconds 5] [--max-load 1.5] [--wait-quiet 90] [--profile api.prof]``

A throw-away database (on ``DATABASE_URL``, default the local PostgreSQL; never the state of
``yaffw up``) gets ``--items`` rows inserted with COPY: half films, half shows (a series, two seasons,
episodes), each film and episode with a video and an audio stream, a poster (and a backdrop for films
and series) in ``images``, and the user's watch state on one film in ten. It measures the API, not
the scan. A real api process (``functions/api/main.py``, one process, as one replica runs) serves it;
the bench logs in through ``POST /Users/AuthenticateByName`` (and ``/api/auth/login`` for ``/api``).

Then ``--clients`` clients (aiohttp, one event loop) ask for pages of 100 films at varying offsets
(the same offset sequence for both sides, so neither reads one cached page):

- ``jellyfin``: ``GET /Items?Recursive=true&IncludeItemTypes=Movie&Limit=100&StartIndex=N
  &Fields=PrimaryImageAspectRatio,MediaSourceCount``
- ``api``: ``GET /api/items?type=movie&limit=100&offset=N``

in rounds of ``--round-seconds`` that alternate the two (ABBA), so machine noise hits both, up to
``--seconds`` per side and mode. Two modes: ``closed`` (each client sends its next request as soon as
the last answered: throughput, and latency when the api is saturated) and ``paced`` (each client waits
``--think`` seconds between requests, as people browsing do: latency at 20 active clients). For each
it prints p50/p95/p99, req/s, the api's CPU milliseconds per request (steadier than latency on a busy
machine), the ratio jellyfin/api of p95 (target <= 1.5x) and whether the jellyfin p95 < 60 ms, with
the 1-minute load average before and after each figure and the CPU that other processes on the
machine used meanwhile. The machine is shared: when the load average before measuring stays above
``--max-load`` (after waiting up to ``--wait-quiet`` s), or other processes took more than half a
core, the figure is marked UNDER LOAD. ``--profile FILE`` runs the api under cProfile and prints
where its time went (the figures are then slower; use it to find hot spots, not for the targets).
Everything it made is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from yaffw.local_services import configured_or_private, free_port  # noqa: E402
from yaffw.migrations import migrate  # noqa: E402
from yaffw.passwords import hash_password  # noqa: E402
from yaffw.settings import Settings  # noqa: E402

LIMIT = 100
JELLYFIN = "jellyfin"
API = "api"
TARGET_RATIO = 1.5
TARGET_P95_MS = 60.0
PASSWORD = "bench-password"
ITEM_COLUMNS = ("id", "library_id", "parent_id", "type", "name", "sort_name", "year", "genres", "rating",
                "index_number", "parent_index_number", "path", "header_hash", "size", "mtime", "container",
                "duration_seconds", "bitrate", "date_added", "plot")  # fmt: skip
STREAM_COLUMNS = ("item_id", "stream_index", "type", "codec", "profile", "width", "height", "frame_rate",
                  "pixel_format", "channels", "channel_layout", "sample_rate", "language", "is_default")  # fmt: skip
IMAGE_COLUMNS = ("item_id", "kind", "object_key", "width", "height", "source")
USERDATA_COLUMNS = ("user_id", "item_id", "played", "play_count", "position_seconds", "is_favorite", "last_played_at")
GENRES = (["Drama"], ["Comedy"], ["Action", "Thriller"], ["Documentary"], ["Animation", "Family"])


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


# --- the library ---------------------------------------------------------------------------------


def _media_rows(lib: uuid.UUID, kind: str, name: str, path: str, added: dt.datetime, **extra) -> tuple:
    """One media_items row (ITEM_COLUMNS order) for a film or an episode file."""
    item = uuid.uuid4()
    row = {
        "id": item, "library_id": lib, "parent_id": extra.get("parent"), "type": kind, "name": name,
        "sort_name": name.lower(), "year": extra.get("year"), "genres": extra.get("genres", []),
        "rating": extra.get("rating"), "index_number": extra.get("index"), "parent_index_number": extra.get("season"),
        "path": path, "header_hash": uuid.uuid4().hex if kind in ("movie", "episode") else None,
        "size": 1_500_000_000 if kind in ("movie", "episode") else None, "mtime": 1.7e9,
        "container": "matroska,webm" if kind in ("movie", "episode") else None,
        "duration_seconds": 5400.0 if kind == "movie" else 2700.0 if kind == "episode" else None,
        "bitrate": 8_000_000 if kind in ("movie", "episode") else None, "date_added": added,
        "plot": f"The story of {name}." if kind in ("movie", "series", "episode") else None,
    }  # fmt: skip
    return tuple(row[c] for c in ITEM_COLUMNS)


def build_library(count: int, movies_lib: uuid.UUID, shows_lib: uuid.UUID) -> dict[str, list[tuple]]:
    """Rows per table for ``count`` items: half films, the rest series of two seasons with episodes."""
    rng = random.Random(12)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    items, streams, images = [], [], []
    n_movies = count // 2

    def files(item: uuid.UUID) -> None:
        streams.append((item, 0, "video", "h264", "High", 1920, 1080, 23.976, "yuv420p", None, None, None, None, True))
        streams.append((item, 1, "audio", "aac", "LC", None, None, None, None, 2, "stereo", 48000, "eng", True))

    for i in range(n_movies):
        year = 1950 + i % 75
        name = f"Movie {i:05d} {rng.choice(('Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo'))}"
        row = _media_rows(movies_lib, "movie", name, f"/bench/movies/{name} ({year})/{name}.mkv",
                          base + dt.timedelta(minutes=i), year=year, genres=rng.choice(GENRES),
                          rating=round(rng.uniform(4, 9), 1))  # fmt: skip
        items.append(row)
        files(row[0])
        images.append((row[0], "primary", f"bench/{row[0]}/primary.jpg", 680, 1000, "sidecar"))
        images.append((row[0], "backdrop", f"bench/{row[0]}/backdrop.jpg", 1920, 1080, "sidecar"))
    show = 0
    while len(items) < count:
        name = f"Show {show:04d}"
        series = _media_rows(shows_lib, "series", name, f"/bench/shows/{name}", base, year=2000 + show % 25)
        items.append(series)
        images.append((series[0], "primary", f"bench/{series[0]}/primary.jpg", 680, 1000, "sidecar"))
        images.append((series[0], "backdrop", f"bench/{series[0]}/backdrop.jpg", 1920, 1080, "sidecar"))
        for season_no in (1, 2):
            if len(items) >= count:
                break
            season = _media_rows(shows_lib, "season", f"Season {season_no}", f"/bench/shows/{name}/Season {season_no}",
                                 base, parent=series[0], index=season_no)  # fmt: skip
            items.append(season)
            images.append((season[0], "primary", f"bench/{season[0]}/primary.jpg", 680, 1000, "sidecar"))
            for ep in range(1, 49):
                if len(items) >= count:
                    break
                ep_name = f"{name} S{season_no:02d}E{ep:02d}"
                folder = f"/bench/shows/{name}/Season {season_no}"
                row = _media_rows(shows_lib, "episode", ep_name, f"{folder}/{ep_name}.mkv",
                                  base + dt.timedelta(minutes=len(items)), parent=season[0], index=ep,
                                  season=season_no)  # fmt: skip
                items.append(row)
                files(row[0])
                images.append((row[0], "primary", f"bench/{row[0]}/thumb.jpg", 1280, 720, "extracted"))
        show += 1
    return {"media_items": items, "media_streams": streams, "images": images}


async def prepare_db(admin_dsn: str, name: str, count: int) -> tuple[str, int]:
    """A new database ``name``, migrated and filled; its DSN and the number of films."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        movies_lib = await conn.fetchval(
            "INSERT INTO libraries (name, kind, paths) VALUES ('Films', 'movies', '{/bench/movies}') RETURNING id"
        )
        shows_lib = await conn.fetchval(
            "INSERT INTO libraries (name, kind, paths) VALUES ('Shows', 'shows', '{/bench/shows}') RETURNING id"
        )
        user = await conn.fetchval("INSERT INTO users (name, password_hash) VALUES ('bench', $1) RETURNING id",
                                   hash_password(PASSWORD, iterations=1000))  # fmt: skip
        await conn.executemany("INSERT INTO library_access (user_id, library_id) VALUES ($1, $2)",
                               [(user, movies_lib), (user, shows_lib)])  # fmt: skip
        rows = build_library(count, movies_lib, shows_lib)
        await conn.copy_records_to_table("media_items", records=rows["media_items"], columns=ITEM_COLUMNS)
        await conn.copy_records_to_table("media_streams", records=rows["media_streams"], columns=STREAM_COLUMNS)
        await conn.copy_records_to_table("images", records=rows["images"], columns=IMAGE_COLUMNS)
        films = [r[0] for r in rows["media_items"] if r[3] == "movie"]
        now = dt.datetime.now(dt.UTC)
        watched = [(user, f, i % 3 == 0, 1 if i % 3 == 0 else 0, 0.0 if i % 3 == 0 else 1200.0, i % 7 == 0,
                    now - dt.timedelta(hours=i)) for i, f in enumerate(films[::10])]  # fmt: skip
        await conn.copy_records_to_table("user_item_data", records=watched, columns=USERDATA_COLUMNS)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return dsn, len(films)


async def drop_db(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --- CPU accounting ------------------------------------------------------------------------------


class Cpu:
    """CPU seconds of the api, of PostgreSQL's backends for the bench database, of this process, and
    of the whole machine: what remains is what other work on the machine used meanwhile."""

    def __init__(self, api_pid: int, db_name: str) -> None:
        self.api = psutil.Process(api_pid)
        self.me = psutil.Process()
        self.db_name = db_name
        self._backends: dict[int, psutil.Process] = {}

    def _pg(self) -> float:
        for p in psutil.process_iter(["name", "cmdline"]):
            if p.pid not in self._backends and self.db_name in " ".join(p.info["cmdline"] or []):
                self._backends[p.pid] = p
        total = 0.0
        for p in list(self._backends.values()):
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                self._backends.pop(p.pid, None)  # a closed connection: its CPU is lost (rare)
        return total

    def snapshot(self) -> dict[str, float]:
        """Cumulative CPU seconds: api, postgres (this database), bench (this process), machine."""
        api, me, machine = self.api.cpu_times(), self.me.cpu_times(), psutil.cpu_times()
        busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq + machine.steal
        return {"api": api.user + api.system, "postgres": self._pg(), "bench": me.user + me.system, "machine": busy}


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    d = {k: after[k] - before[k] for k in before}
    d["others"] = max(0.0, d["machine"] - d["api"] - d["postgres"] - d["bench"])
    return d


# --- the load ------------------------------------------------------------------------------------


@dataclass
class Side:
    """One endpoint: how to ask for a page at an offset, and what its rounds measured."""

    name: str
    url: str
    headers: dict[str, str]
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    loads: list[tuple[float, float]] = field(default_factory=list)  # (before, after) per round
    errors: int = 0

    def page(self, offset: int) -> str:
        return self.url.format(offset=offset)

    def add_cpu(self, d: dict[str, float]) -> None:
        for k, v in d.items():
            self.cpu[k] = self.cpu.get(k, 0.0) + v


async def run_round(session: aiohttp.ClientSession, side: Side, offsets: list[int], clients: int, seconds: float,
                    think: float, record: bool = True) -> list[float]:  # fmt: skip
    """``clients`` loops asking ``side`` for pages for ``seconds``; their latencies in seconds."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    position = iter(range(10**9))

    async def client(n: int) -> None:
        if think:  # spread the paced clients' first requests over one think time
            await asyncio.sleep(think * n / clients)
        while time.perf_counter() < deadline:
            offset = offsets[next(position) % len(offsets)]
            started = time.perf_counter()
            async with session.get(side.page(offset), headers=side.headers) as r:
                await r.read()
                if r.status != 200:
                    side.errors += 1
            latencies.append(time.perf_counter() - started)
            if think:
                await asyncio.sleep(think)

    await asyncio.gather(*(client(n) for n in range(clients)))
    if record:
        side.latencies += latencies
    return latencies


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank, in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --- the run -------------------------------------------------------------------------------------


async def login(http: httpx.AsyncClient, base: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers for the Jellyfin side (a device token from AuthenticateByName) and for ``/api``."""
    device = 'MediaBrowser Client="bench_jellyfin", Device="bench", DeviceId="bench-1", Version="1.0"'
    r = await http.post(f"{base}/Users/AuthenticateByName", json={"Username": "bench", "Pw": PASSWORD},
                        headers={"Authorization": device})  # fmt: skip
    r.raise_for_status()
    jf = {"Authorization": f'{device}, Token="{r.json()["AccessToken"]}"'}
    r = await http.post(f"{base}/api/auth/login", json={"username": "bench", "password": PASSWORD})
    r.raise_for_status()
    return jf, {"Authorization": f"Bearer {r.json()['access_token']}"}


async def check(http: httpx.AsyncClient, sides: dict[str, Side], n_movies: int) -> None:
    """Both sides answer a full page of films and count all of them (else the comparison is void)."""
    jf = await http.get(sides[JELLYFIN].page(0), headers=sides[JELLYFIN].headers)
    if jf.status_code != 200:
        raise SystemExit(f"GET /Items answered {jf.status_code}: {jf.text[:300]}")
    body = jf.json()
    if len(body["Items"]) != LIMIT or body["TotalRecordCount"] != n_movies:
        raise SystemExit(f"/Items: {len(body['Items'])} items, TotalRecordCount {body['TotalRecordCount']}, "
                         f"expected {LIMIT} and {n_movies}")  # fmt: skip
    api = (await http.get(sides[API].page(0), headers=sides[API].headers)).raise_for_status().json()
    if len(api["items"]) != LIMIT or api["total"] != n_movies:
        raise SystemExit(f"/api/items: {len(api['items'])} items, total {api['total']}, expected {LIMIT}, {n_movies}")


def wait_quiet(max_load: float, wait: float) -> float:
    """Wait up to ``wait`` seconds for the 1-minute load average to fall to ``max_load``; the last value."""
    deadline = time.monotonic() + wait
    while load1() > max_load and time.monotonic() < deadline:
        time.sleep(5)
    return load1()


async def measure(args: argparse.Namespace, base: str, cpu: Cpu, n_movies: int) -> bool:
    async with httpx.AsyncClient(timeout=60) as http:
        jf_headers, api_headers = await login(http, base)
        query = "Recursive=true&IncludeItemTypes=Movie&Limit=100&Fields=PrimaryImageAspectRatio,MediaSourceCount"
        sides = {
            JELLYFIN: Side(JELLYFIN, f"{base}/Items?{query}&StartIndex={{offset}}", jf_headers),
            API: Side(API, f"{base}/api/items?type=movie&limit=100&offset={{offset}}", api_headers),
        }
        await check(http, sides, n_movies)
    rng = random.Random(7)
    offsets = [rng.randrange(0, n_movies - LIMIT + 1) for _ in range(5000)]
    connector = aiohttp.TCPConnector(limit=args.clients * 2)
    ok = True
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        for side in sides.values():  # warm-up: imports, prepared statements, the pool's connections
            await run_round(session, side, offsets, args.clients, 2.0, 0.0, record=False)
        quiet = wait_quiet(args.max_load, args.wait_quiet)
        print(f"load average before measuring: {quiet:.2f} (1 min) "
              f"{'ok' if quiet <= args.max_load else f'> {args.max_load}: figures are taken UNDER LOAD'}",
              flush=True)  # fmt: skip
        modes = [("closed", 0.0)] + ([("paced", args.think)] if args.think > 0 else [])
        for mode, think in modes:
            results = {k: Side(v.name, v.url, v.headers) for k, v in sides.items()}
            rounds = max(1, round(args.seconds / args.round_seconds))
            pairs: list[float] = []
            for r in range(rounds):
                order = [JELLYFIN, API] if r % 4 in (0, 3) else [API, JELLYFIN]  # ABBA
                p95: dict[str, float] = {}
                for name in order:
                    side = results[name]
                    before_load, before = load1(), cpu.snapshot()
                    started = time.perf_counter()
                    lat = await run_round(session, side, offsets[r * 97 :] + offsets, args.clients,
                                          args.round_seconds, think)  # fmt: skip
                    side.seconds += time.perf_counter() - started
                    side.add_cpu(cpu_delta(before, cpu.snapshot()))
                    side.loads.append((before_load, load1()))
                    p95[name] = pct(lat, 0.95)
                pairs.append(p95[JELLYFIN] / p95[API])
            ok &= report(args, mode, think, results, pairs, quiet)
    return ok


def report(args: argparse.Namespace, mode: str, think: float, sides: dict[str, Side], pairs: list[float],
           quiet: float) -> bool:  # fmt: skip
    """Print one mode's figures; whether its targets were met. The bench itself raises the load average
    while it runs, so a figure is marked UNDER LOAD by the load before measuring (``quiet``) and by the
    CPU other processes took during its rounds."""
    what = "no think time" if not think else f"{think:g} s think time"
    print(f"\n{mode}: {args.clients} clients, {what}, {len(pairs)} rounds of {args.round_seconds:g} s per side (ABBA)")
    p95 = {}
    marked = False
    for name, s in sides.items():
        n = len(s.latencies)
        p95[name] = pct(s.latencies, 0.95)
        others = s.cpu["others"] / s.seconds  # cores other work used meanwhile
        worst = max(b for b, _ in s.loads)
        under = quiet > args.max_load or others > 0.5
        marked |= under
        print(f"  {name:8s} p50 {pct(s.latencies, 0.5):6.1f} ms  p95 {p95[name]:6.1f} ms  "
              f"p99 {pct(s.latencies, 0.99):6.1f} ms  {n / s.seconds:6.1f} req/s  ({n} requests, {s.errors} errors)  "
              f"api CPU {1000 * s.cpu['api'] / n:.2f} ms/req, PostgreSQL {1000 * s.cpu['postgres'] / n:.2f} ms/req  "
              f"| load1 {s.loads[0][0]:.2f} -> {s.loads[-1][1]:.2f} (max before a round {worst:.2f}), "
              f"other processes {100 * others:.0f}% of a core{'  UNDER LOAD' if under else ''}")  # fmt: skip
    ratio = p95[JELLYFIN] / p95[API]
    cpu_ratio = (sides[JELLYFIN].cpu["api"] / len(sides[JELLYFIN].latencies)) / (
        sides[API].cpu["api"] / len(sides[API].latencies)
    )
    ok = ratio <= TARGET_RATIO and p95[JELLYFIN] < TARGET_P95_MS and not sides[JELLYFIN].errors
    print(f"  ratio p95 jellyfin/api {ratio:.2f}x (median of rounds {statistics.median(pairs):.2f}x: "
          f"{', '.join(f'{x:.2f}' for x in pairs)}); target <= {TARGET_RATIO}x: "
          f"{'met' if ratio <= TARGET_RATIO else 'MISSED'}")  # fmt: skip
    print(f"  ratio api CPU per request jellyfin/api {cpu_ratio:.2f}x")
    print(f"  jellyfin p95 {p95[JELLYFIN]:.1f} ms at {args.clients} clients: target < {TARGET_P95_MS:g} ms "
          f"{'met' if p95[JELLYFIN] < TARGET_P95_MS else 'MISSED'}{'  (UNDER LOAD)' if marked else ''}")  # fmt: skip
    return ok


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout}s")


def print_profile(path: Path, top: int = 30) -> None:
    """The api's hottest functions (own time, then cumulative)."""
    stats = pstats.Stats(str(path))
    print(f"\napi profile ({path}): top {top} by own time")
    stats.sort_stats("tottime").print_stats(top)
    print(f"api profile: top {top} by cumulative time")
    stats.sort_stats("cumulative").print_stats(top)


def main() -> int:
    """Run the benchmark and print the figures; exit 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20000, help="items in the library (half films)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per side and mode")
    parser.add_argument("--round-seconds", type=float, default=5, help="length of one round (sides alternate)")
    parser.add_argument("--think", type=float, default=0.5, help="think time of the paced mode (0: closed only)")
    parser.add_argument("--max-load", type=float, default=1.5, help="1-minute load average above which figures "
                        "are marked UNDER LOAD (1.5 on a 2-core machine)")  # fmt: skip
    parser.add_argument("--wait-quiet", type=float, default=90, help="seconds to wait for the load to fall first")
    parser.add_argument("--profile", type=Path, help="run the api under cProfile, write the stats there")
    args = parser.parse_args()
    if args.items < 2 * LIMIT + 10:
        parser.error(f"--items must be at least {2 * LIMIT + 10}")
    print(f"{os.cpu_count()} CPUs, load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    admin_dsn = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    work = Path(tempfile.mkdtemp(prefix="yaffw-bench-jf-"))
    # Like the tests: the configured servers when they answer, else private ones (a bare machine).
    admin_dsn, redis_url, services = configured_or_private(admin_dsn, redis_url, work)
    db_name = f"yaffw_bench_jf_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    api: subprocess.Popen | None = None
    try:
        started = time.perf_counter()
        dsn, n_movies = asyncio.run(prepare_db(admin_dsn, db_name, args.items))
        print(f"library: {args.items} items ({n_movies} films; series, seasons, episodes) inserted in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        port = free_port()
        settings = Settings(database_url=dsn, redis_url=redis_url, redis_prefix=prefix, jwt_secret=uuid.uuid4().hex,
                            host="127.0.0.1", port=port, image_dir=work / "images", state_dir=work / "state",
                            scratch_dir=work / "scratch", log_level="WARNING")  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
        env.update(settings.to_env())
        prof = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
        api = subprocess.Popen([sys.executable, *prof, str(ROOT / "functions/api/main.py")], env=env,
                               stdout=(work / "api.log").open("w"), stderr=subprocess.STDOUT)  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/readyz", api)
        ok = asyncio.run(measure(args, base, Cpu(api.pid, db_name), n_movies))
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
            if api.returncode not in (0, -15) and (work / "api.log").exists():
                print((work / "api.log").read_text()[-3000:], file=sys.stderr)
        if args.profile and args.profile.exists():
            print_profile(args.profile)
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
