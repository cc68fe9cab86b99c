"""Direct-play throughput: the api's ``GET /api/items/{id}/file`` next to nginx serving the same file.

Usage: ``python loadtests/bench_direct_play.py [--size-mb 256] [--rounds 3] [--clients 1,20]``

In one run it creates a throw-away database (on ``DATABASE_URL``, default the local PostgreSQL) with
one item pointing at a freshly written file of ``--size-mb`` random bytes, starts a real api process
(``functions/api/main.py``, one process) and Debian's nginx (a private config: one worker,
``sendfile on``, non-daemon) on free ports, then downloads the file with ``curl`` processes: 1 at a
time, and 20 at once. Rounds alternate api and nginx so both see the same page cache and machine
load; the median round counts. It prints MB/s for both, the ratio api/nginx (target >= 0.8), and
the api's peak RSS (psutil, sampled every 20 ms). On a busy machine throughput is noisy; the
servers' CPU seconds per GB served, also printed, are steadier. Everything it made is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from yaffw import tokens  # noqa: E402
from yaffw.local_services import configured_or_private, free_port  # noqa: E402
from yaffw.migrations import migrate  # noqa: E402
from yaffw.passwords import hash_password  # noqa: E402
from yaffw.settings import Settings  # noqa: E402

NGINX_CONF = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  types {{ video/mp4 mp4; }}
  client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp; fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp;
  server {{ listen 127.0.0.1:{port}; root {media}; }}
}}
"""


def _write_file(path: Path, size_mb: int) -> None:
    block = os.urandom(1024 * 1024)
    with path.open("wb") as f:
        for _ in range(size_mb):
            f.write(block)


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: process exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout}s")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (nginx's worker)."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in (proc, *proc.children(recursive=True)):
        t = p.cpu_times()
        total += t.user + t.system
    return total


def _download(url: str, clients: int, headers: list[str], size: int) -> float:
    """Start ``clients`` curls at once; returns MB/s over the wall time until the last finishes."""
    cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", *headers, url]
    started = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(clients)]
    outs = [p.communicate()[0].split() for p in procs]
    elapsed = time.perf_counter() - started
    for code, got in outs:
        if code != "200" or int(got) != size:
            raise SystemExit(f"bad download from {url}: HTTP {code}, {got} of {size} bytes")
    return clients * size / elapsed / 1e6


class PeakRss(threading.Thread):
    """Samples a process's resident set size until stopped; ``peak`` in bytes."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)


async def _prepare_db(admin_dsn: str, name: str, media: Path, secret: str) -> tuple[str, str, str]:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        lib = await conn.fetchval("INSERT INTO libraries (name, kind, paths) VALUES ('bench', 'movies', $1) "
                                  "RETURNING id", [str(media)])  # fmt: skip
        path = media / "big.mp4"
        item = await conn.fetchval(
            "INSERT INTO media_items (library_id, type, name, sort_name, path, header_hash, size, container) "
            "VALUES ($1, 'movie', 'big', 'big', $2, 'bench', $3, 'mov,mp4,m4a,3gp,3g2,mj2') RETURNING id",
            lib, str(path), path.stat().st_size,
        )  # fmt: skip
        user = await conn.fetchval("INSERT INTO users (name, password_hash, is_admin) VALUES ('bench', $1, true) "
                                   "RETURNING id", hash_password("x", iterations=1000))  # fmt: skip
    finally:
        await conn.close()
    token, _ = tokens.issue(secret, str(user), True, 3600)
    return dsn, str(item), token


async def _drop_db(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", default="1,20")
    args = parser.parse_args()
    admin_dsn = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    work = Path(tempfile.mkdtemp(prefix="yaffw-bench-"))
    # Like the tests: the configured servers when they answer, else private ones (a bare machine).
    admin_dsn, redis_url, services = configured_or_private(admin_dsn, redis_url, work)
    media = work / "media"
    media.mkdir()
    (work / "tmp").mkdir()
    # nginx's worker runs as an unprivileged user when started by root: it must be able to read.
    for p in (work, media):
        p.chmod(0o755)
    big = media / "big.mp4"
    _write_file(big, args.size_mb)
    size = big.stat().st_size
    db_name = f"yaffw_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    secret = uuid.uuid4().hex
    procs: list[subprocess.Popen] = []
    try:
        dsn, item_id, token = asyncio.run(_prepare_db(admin_dsn, db_name, media, secret))
        api_port, nginx_port = free_port(), free_port()
        settings = Settings(database_url=dsn, redis_url=redis_url, redis_prefix=f"bench:{uuid.uuid4().hex[:8]}:",
                            jwt_secret=secret, host="127.0.0.1", port=api_port, image_dir=work / "images",
                            state_dir=work / "state", scratch_dir=work / "scratch", log_level="WARNING")  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
        env.update(settings.to_env())
        api = subprocess.Popen([sys.executable, str(ROOT / "functions/api/main.py")], env=env,
                               stdout=(work / "api.log").open("w"), stderr=subprocess.STDOUT)  # fmt: skip
        procs.append(api)
        (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, port=nginx_port, media=media))
        nginx = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)],
                                 stdout=subprocess.DEVNULL, stderr=(work / "nginx.out").open("w"))  # fmt: skip
        procs.append(nginx)
        api_url = f"http://127.0.0.1:{api_port}"
        _wait_http(api_url + "/healthz", api)
        _wait_http(f"http://127.0.0.1:{nginx_port}/", nginx)
        targets = {
            "api": (f"{api_url}/api/items/{item_id}/file", ["-H", f"Authorization: Bearer {token}"]),
            "nginx": (f"http://127.0.0.1:{nginx_port}/big.mp4", []),
        }
        rss = PeakRss(api.pid)
        rss.start()
        for url, headers in targets.values():  # warm the page cache and both servers
            _download(url, 1, headers, size)
        print(f"file: {size / 1e6:.0f} MB, {args.rounds} rounds, median of each; machine: {os.cpu_count()} CPUs")
        results: dict[tuple[str, int], list[float]] = {}
        pids = {"api": api.pid, "nginx": nginx.pid}
        for clients in (int(c) for c in args.clients.split(",")):
            cpu = {"api": 0.0, "nginx": 0.0}
            for _ in range(args.rounds):
                for name, (url, headers) in targets.items():
                    before = _cpu_seconds(pids[name])
                    results.setdefault((name, clients), []).append(_download(url, clients, headers, size))
                    cpu[name] += _cpu_seconds(pids[name]) - before
            api_mbs = statistics.median(results[("api", clients)])
            nginx_mbs = statistics.median(results[("nginx", clients)])
            print(f"{clients:>3} concurrent: api {api_mbs:8.0f} MB/s  nginx {nginx_mbs:8.0f} MB/s  "
                  f"ratio {api_mbs / nginx_mbs:.2f}x  (rounds api {_fmt(results[('api', clients)])}, "
                  f"nginx {_fmt(results[('nginx', clients)])})")  # fmt: skip
            gigabytes = args.rounds * clients * size / 1e9
            print(f"     server CPU per GB served: api {cpu['api'] / gigabytes:.3f} s  "
                  f"nginx {cpu['nginx'] / gigabytes:.3f} s")  # fmt: skip
        rss.stopped.set()
        rss.join()
        print(f"api peak RSS: {rss.peak / 1e6:.1f} MB")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        asyncio.run(_drop_db(admin_dsn, db_name))
        for service in services:
            service.stop()
        shutil.rmtree(work, ignore_errors=True)


def _fmt(values: list[float]) -> str:
    return "/".join(f"{v:.0f}" for v in values)


if __name__ == "__main__":
    main()
