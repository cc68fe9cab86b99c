"""Jellyfin migration speed: 100,000 items and 10 users' play state, 10.10 and 10.11 layouts.

Usage: ``python loadtests/bench_jellyfin_etl.py [--items 100000] [--users 10] [--fraction 1.0]
[--layouts 10.10,10.11]``

For each layout it builds a Jellyfin data folder from Jellyfin's own table definitions
(:mod:`yaffw.jellyfin.sample`): ``--items`` movies (1 % of them with no file on the yaffw side, so
they are reported unmatched), ``--users`` users with Jellyfin's PBKDF2-SHA512 hashes, and play state
for ``--fraction`` of the items per user. A throw-away database (on ``DATABASE_URL``, default the
local PostgreSQL) gets the yaffw library and the media_items a scan would have made. Then it times:

- baseline: the same streaming readers over the same SQLite files, writing nothing (the floor any
  migration pays to read Jellyfin's data), measured in the same run;
- the migration (``yaffw.jellyfin.migrate.run``, integrity check included), a dry run, and a second
  run (which must write nothing).

It prints seconds, rows per second, the ratio migration/baseline, and the process's peak RSS growth
(the data is streamed: it stays flat as --items grows). Everything it made is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from yaffw.jellyfin import migrate  # noqa: E402
from yaffw.jellyfin import sample as jf  # noqa: E402
from yaffw.jellyfin.detect import detect, open_sources  # noqa: E402
from yaffw.jellyfin.pathmap import PathMap  # noqa: E402
from yaffw.jellyfin.read_items import read_items  # noqa: E402
from yaffw.jellyfin.read_userdata import read_userdata  # noqa: E402
from yaffw.jellyfin.read_users import read_users  # noqa: E402
from yaffw.migrations import migrate as apply_migrations  # noqa: E402

OLD, NEW = "/mnt/jellyfin/movies", "/srv/yaffw-bench/movies"


def _path(root: str, n: int) -> str:
    return f"{root}/Movie {n:06d} (2000)/Movie {n:06d} (2000).mkv"


def build(root: Path, version: str, items: int, users: int, fraction: float) -> None:
    """The Jellyfin data folder."""
    b = jf.JellyfinBuilder(root, version)
    folder = b.add_library("Movies", "movies", [OLD])
    ids = [uuid.uuid4() for _ in range(items)]
    chunk = 20_000
    for start in range(0, items, chunk):
        b.add_items((ids[n], jf.MOVIE, _path(OLD, n), f"Movie {n}", False, False, folder, None)
                    for n in range(start, min(items, start + chunk)))  # fmt: skip
    base = datetime(2024, 1, 1, tzinfo=UTC)
    step = max(1, round(1 / fraction)) if fraction > 0 else 0
    for u in range(users):
        user = b.add_user(f"user{u:02d}", f"password {u}", admin=u == 0)
        if not step:
            continue
        for start in range(0, items, chunk):
            b.add_user_data_rows(
                (user, ids[n], n % 3 == 0, n % 5, float(n % 3600), n % 7 == 0, base + timedelta(minutes=n), None,
                 None, None)
                for n in range(start, min(items, start + chunk)) if (n + u) % step == 0
            )  # fmt: skip
    b.close()


async def scan_rows(dsn: str, items: int) -> None:
    """The yaffw library and media_items for 99 % of the movies (what a scan would have made)."""
    conn = await asyncpg.connect(dsn)
    try:
        library = await conn.fetchval(
            "INSERT INTO libraries (name, kind, paths) VALUES ('Movies', 'movies', $1) RETURNING id", [NEW]
        )
        await conn.execute(
            "INSERT INTO media_items (library_id, type, name, sort_name, path, header_hash) "
            "SELECT $1, 'movie', 'Movie ' || n, 'Movie ' || n, "
            "$2 || '/Movie ' || lpad(n::text, 6, '0') || ' (2000)/Movie ' || lpad(n::text, 6, '0') || ' (2000).mkv', "
            "md5(n::text) FROM generate_series(0, $3 - 1) AS n WHERE n % 100 <> 99",
            library, NEW, items,
        )  # fmt: skip
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def baseline(data_dir: Path) -> tuple[float, int]:
    """Seconds to stream every row the migration reads, and how many rows."""
    started = time.perf_counter()
    layout = detect(data_dir)
    src = open_sources(layout)
    rows = 0
    try:
        users = {u.internal_id: u.id for u in read_users(src.users, layout.jellyfin_db)}
        for batch in read_items(src.items, src.items_path, layout.kind, lambda *a: None):
            rows += len(batch)
        for batch in read_userdata(src.items, src.items_path, layout.kind, users, lambda *a: None):
            rows += len(batch)
    finally:
        src.close()
    return time.perf_counter() - started, rows


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(admin_dsn: str, version: str, args: argparse.Namespace, scratch: Path) -> None:
    data_dir = scratch / f"jellyfin-{version}"
    t = time.perf_counter()
    build(data_dir, version, args.items, args.users, args.fraction)
    built_s = time.perf_counter() - t
    size_mb = sum(p.stat().st_size for p in data_dir.rglob("*.db")) / 1e6
    name = f"yaffw_bench_jf_{os.getpid()}_{version.replace('.', '')}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    try:
        await apply_migrations(dsn)
        await scan_rows(dsn, args.items)
        paths = PathMap.parse([f"{OLD}={NEW}"])
        base_s, rows = baseline(data_dir)
        rss0 = _rss_mb()
        dry = await migrate.run(dsn, data_dir, paths, dry_run=True)
        t = time.perf_counter()
        report = await migrate.run(dsn, data_dir, paths)
        run_s = time.perf_counter() - t
        rss1 = _rss_mb()
        t = time.perf_counter()
        again = await migrate.run(dsn, data_dir, paths)
        again_s = time.perf_counter() - t
        conn = await asyncpg.connect(dsn)
        stored = await conn.fetchval("SELECT count(*) FROM user_item_data")
        await conn.close()
        p = report.phases
        head = f"{args.items} items, {args.users} users, {p['userdata'].read} user-data rows"
        print(f"\n== Jellyfin {version} layout: {head} ({size_mb:.0f} MB of SQLite, built in {built_s:.1f} s)")
        print(f"baseline (stream the same rows, write nothing): {base_s:6.2f} s  ({rows / base_s:,.0f} rows/s)")
        print(f"migration:                                      {run_s:6.2f} s  "
              f"({(p['items'].read + p['userdata'].read) / run_s:,.0f} rows/s)")  # fmt: skip
        print(f"ratio migration / baseline:                     {run_s / base_s:6.2f}")
        print(f"dry run:                                        {dry.seconds:6.2f} s")
        print(f"second run (writes nothing):                    {again_s:6.2f} s, "
              f"rows written {sum(ph.migrated for ph in again.phases.values())}")  # fmt: skip
        print(f"items matched {p['items'].matched}, unmatched {p['items'].unmatched}; user data migrated "
              f"{p['userdata'].migrated}, in user_item_data {stored}")  # fmt: skip
        print(f"peak RSS growth during the migration: {rss1 - rss0:.1f} MB (peak {rss1:.0f} MB)")
        assert sum(ph.migrated for ph in again.phases.values()) == 0, "second run wrote rows"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(data_dir, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the items each user has state for")
    parser.add_argument("--layouts", default="10.10,10.11")
    args = parser.parse_args()
    admin_dsn = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    scratch = Path(tempfile.mkdtemp(prefix="yaffw-bench-jf-"))
    try:
        for version in args.layouts.split(","):
            await bench(admin_dsn, version, args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # progress of a long run shows in a redirected log
    asyncio.run(main())
