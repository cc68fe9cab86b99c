"""Library scan speed: a cold scan and a no-change rescan of ``--files`` media files, against
sequential ``ffprobe -show_streams -show_format`` measured in the same run.

Usage: ``python loadtests/bench_scan.py [--files 2000] [--baseline-files 200] [--concurrency 2]
[--store s3|dir] [--cpus 2]``

It makes four small clips with FFmpeg (H.264/AAC MP4, H.264 + AAC + AC-3 + SubRip MKV, a 640x360 MP4,
an HEVC MKV), then a mixed library of ``--files`` copies under distinct names: half films
(``Movie 0001 (1951)/Movie 0001 (1951).mp4``), half episodes (``Show 03/Season 02/Show 03 S02E07.mkv``).
Copies of one clip get a distinct number of trailing bytes, so every file has its own size and so
its own header hash, as real files do (hard links would all share one). A throw-away database (on
``DATABASE_URL``, default the local PostgreSQL), a Redis key prefix, and moto's S3 server in a
separate process (``--store s3``, the default) or a directory store hold the results.

Timed:
- baseline: ``ffprobe -v error -show_streams -show_format -of json FILE``, one file after another,
  on ``--baseline-files`` files spread over the library (the whole library would take minutes);
- PyAV opening the same files (the probe the scan uses), for the ffprobe-vs-PyAV choice;
- the cold scan (walk, hash, probe, nfo/images, a still per video into S3, rows, events);
- the no-change rescan.
The process is pinned to ``--cpus`` CPUs (PostgreSQL, Redis and moto are not). It prints files/s and
the ratios; targets: cold scan >= 3x the baseline, no-change rescan of 2,000 files < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
sys.path.insert(0, str(ROOT / "functions" / "scan"))

import av  # noqa: E402
import av.logging  # noqa: E402
from yaffw.db import create_pool  # noqa: E402
from yaffw.keys import Keys  # noqa: E402
from yaffw.local_services import free_port, port_open  # noqa: E402
from yaffw.migrations import migrate  # noqa: E402
from yaffw.redis_client import async_client  # noqa: E402
from yaffw.settings import Settings  # noqa: E402
from yaffw.storage import DirStore, S3Store  # noqa: E402
from yaffw_scan.scanner import Scanner  # noqa: E402

LAVFI_V = "testsrc2=size={size}:rate=24:duration={d}"
LAVFI_A = "sine=frequency={f}:sample_rate=48000:duration={d}"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, stdin=subprocess.DEVNULL)


def make_clips(folder: Path) -> list[Path]:
    """Four small, different clips."""
    srt = folder / "sub.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:02,000\nHello\n")
    clips = [folder / "a.mp4", folder / "b.mkv", folder / "c.mp4", folder / "d.mkv"]
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "24"]
    ffmpeg("-f", "lavfi", "-i", LAVFI_V.format(size="320x180", d=3), "-f", "lavfi", "-i", LAVFI_A.format(f=440, d=3),
           *x264, "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart", "-shortest", str(clips[0]))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", LAVFI_V.format(size="320x180", d=3), "-f", "lavfi", "-i", LAVFI_A.format(f=330, d=3),
           "-f", "lavfi", "-i", LAVFI_A.format(f=550, d=3), "-i", str(srt),
           "-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:s", *x264,
           "-c:a:0", "aac", "-b:a:0", "64k", "-c:a:1", "ac3", "-b:a:1", "192k", "-ac:a:1", "6", "-c:s", "srt",
           "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fre",
           "-shortest", str(clips[1]))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", LAVFI_V.format(size="640x360", d=2), "-f", "lavfi", "-i", LAVFI_A.format(f=660, d=2),
           *x264, "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", "-shortest", str(clips[2]))  # fmt: skip
    ffmpeg("-f", "lavfi", "-i", LAVFI_V.format(size="320x180", d=2), "-f", "lavfi", "-i", LAVFI_A.format(f=220, d=2),
           "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-shortest", str(clips[3]))  # fmt: skip
    return clips


def make_library(root: Path, clips: list[Path], count: int) -> list[Path]:
    """``count`` copies with distinct names and sizes, half films and half episodes."""
    data = [c.read_bytes() for c in clips]
    paths = []
    for i in range(count):
        n = i // 2
        if i % 2 == 0:
            name = f"Movie {n:04d} ({1950 + n % 70})"
            path = root / "Movies" / name / f"{name}{clips[n % 2 * 2].suffix}"
            base = data[n % 2 * 2]
        else:
            show, season, episode = n // 40, (n // 20) % 2 + 1, n % 20 + 1
            path = root / "Shows" / f"Show {show:02d}" / f"Season {season:02d}"
            path = path / f"Show {show:02d} S{season:02d}E{episode:02d}{clips[1 + n % 2 * 2].suffix}"
            base = data[1 + n % 2 * 2]
        path.parent.mkdir(parents=True, exist_ok=True)
        # A distinct tail length per copy: a distinct size, so a distinct header hash.
        path.write_bytes(base + b"\0" * (1 + i))
        paths.append(path)
    return paths


def baseline(paths: list[Path]) -> float:
    """Files per second for sequential ffprobe."""
    started = time.perf_counter()
    for p in paths:
        subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(p)],
                       check=True, capture_output=True, stdin=subprocess.DEVNULL)  # fmt: skip
    return len(paths) / (time.perf_counter() - started)


def pyav_open(paths: list[Path]) -> float:
    """Files per second for opening each file with PyAV and reading its streams."""
    started = time.perf_counter()
    for p in paths:
        with av.open(str(p)) as container:
            [s.codec_context for s in container.streams]
    return len(paths) / (time.perf_counter() - started)


async def run_scans(settings: Settings, root: Path, concurrency: int, store_kind: str, tmp: Path) -> tuple:
    pool = await create_pool(settings.database_url, max_size=concurrency * 2 + 2)
    redis = async_client(settings.redis_url)
    try:
        store = DirStore(tmp / "images") if store_kind == "dir" else S3Store(settings)
        if isinstance(store, S3Store):
            store.ensure_bucket()
        library = await pool.fetchval(
            "INSERT INTO libraries (name, kind, paths) VALUES ('Bench', 'mixed', $1) RETURNING id", [str(root)]
        )
        scanner = Scanner(pool, redis, store, Keys(settings.redis_prefix), concurrency=concurrency)
        started = time.perf_counter()
        [cold] = await scanner.scan(str(library))
        cold_s = time.perf_counter() - started
        started = time.perf_counter()
        [warm] = await scanner.scan(str(library))
        warm_s = time.perf_counter() - started
        return cold, cold_s, warm, warm_s
    finally:
        await redis.aclose()
        await pool.close()


async def create_database(admin_dsn: str, name: str, drop: bool = False) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' if drop else f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--baseline-files", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2, help="YAFFW_SCAN_CONCURRENCY for the scan")
    parser.add_argument("--cpus", type=int, default=2, help="pin this process to that many CPUs")
    parser.add_argument("--store", choices=("s3", "dir"), default="s3")
    args = parser.parse_args()
    av.logging.set_level(None)
    cpus = sorted(os.sched_getaffinity(0))[: args.cpus]
    os.sched_setaffinity(0, cpus)
    admin_dsn = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    tmp = Path(tempfile.mkdtemp(prefix="yaffw-bench-scan-"))
    dbname = f"yaffw_bench_scan_{os.getpid()}"
    moto = None
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    try:
        print(f"making {args.files} files under {tmp} ...", flush=True)
        clips = make_clips(tmp)
        paths = make_library(tmp / "library", clips, args.files)
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        step = max(1, len(paths) // args.baseline_files)
        sample = paths[::step][: args.baseline_files]
        base_fps = baseline(sample)
        pyav_fps = pyav_open(sample)

        asyncio.run(create_database(admin_dsn, dbname))
        dsn = admin_dsn.rsplit("/", 1)[0] + "/" + dbname
        asyncio.run(migrate(dsn))
        settings = Settings(database_url=dsn, redis_url=redis_url, redis_prefix=prefix)
        if args.store == "s3":
            port = free_port()
            moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            deadline = time.monotonic() + 30
            while not port_open("127.0.0.1", port):
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start")
                time.sleep(0.1)
            settings = settings.replace(s3_endpoint_url=f"http://127.0.0.1:{port}", s3_bucket="bench",
                                        s3_access_key_id="bench", s3_secret_access_key="bench")  # fmt: skip
        cold, cold_s, warm, warm_s = asyncio.run(
            run_scans(settings, tmp / "library", args.concurrency, args.store, tmp)
        )

        cold_fps, warm_fps = args.files / cold_s, args.files / warm_s
        print(f"library: {args.files} files, {size_mb:.0f} MB; process pinned to CPUs {cpus}; "
              f"scan concurrency {args.concurrency}; images in {args.store}")  # fmt: skip
        print(f"baseline  sequential ffprobe -show_streams -show_format: {base_fps:8.1f} files/s "
              f"({len(sample)} files, {1000 / base_fps:.1f} ms each)")  # fmt: skip
        print(f"probe     PyAV open + streams, sequential:              {pyav_fps:8.1f} files/s "
              f"({1000 / pyav_fps:.1f} ms each, {pyav_fps / base_fps:.0f}x ffprobe)")  # fmt: skip
        print(f"cold scan {cold_s:7.2f} s: {cold_fps:8.1f} files/s  ratio vs baseline {cold_fps / base_fps:5.1f}x "
              f"(target >= 3x)  added {cold.added}+{cold.folders_added} folders, failed {cold.failed}, "
              f"opened {cold.opened}")  # fmt: skip
        print(f"rescan    {warm_s:7.2f} s: {warm_fps:8.1f} files/s  ratio vs baseline {warm_fps / base_fps:5.1f}x "
              f"(target < 2 s for 2,000 files)  unchanged {warm.unchanged}, opened {warm.opened}")  # fmt: skip
        ok = cold_fps >= 3 * base_fps and (args.files < 2000 or warm_s < 2) and cold.failed == 0
        print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1
    finally:
        if moto is not None:
            moto.terminate()
            moto.wait(10)
        asyncio.run(create_database(admin_dsn, dbname, drop=True))
        import redis as redis_sync

        client = redis_sync.Redis.from_url(redis_url)
        for key in client.scan_iter(match=prefix + "*", count=1000):
            client.delete(key)
        client.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
