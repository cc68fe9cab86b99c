"""Time to the first HLS segment through yaffw (api → queue → worker → proxy) next to bare FFmpeg
making the same segment with the same arguments, in the same run; the same after a seek to 50%.

    .venv/bin/python loadtests/bench_first_segment.py [--runs 3] [--seconds 60] [--height 720]

Uses the PostgreSQL and Redis at DATABASE_URL / REDIS_URL (default 127.0.0.1), in a private
database and key prefix. Starts one real api process and one real worker (warm), then for each run
opens a new playback session (cold session) and fetches master → media playlist → segment.
Prints medians and the ratios yaffw / bare (target ≤ 1.3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urljoin, urlparse, urlunparse

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from yaffw.local_services import free_port  # noqa: E402
from yaffw.media import ffmpeg, hls  # noqa: E402
from yaffw.migrations import migrate  # noqa: E402
from yaffw.settings import Settings  # noqa: E402

from tests._media_rows import insert_item, make_library, make_user  # noqa: E402


def make_source(seconds: int) -> Path:
    """A 1280x720 10-bit HEVC + AAC film with 2 s keyframes (cached)."""
    path = Path.home() / ".cache" / "yaffw-bench" / f"hevc720-{seconds}s.mkv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
                        "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=24:duration={seconds}",
                        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
                        "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=48",
                        "-pix_fmt", "yuv420p10le", "-c:a", "aac", "-b:a", "128k", str(path)], check=True)  # fmt: skip
    return path


def bare_first_segment(argv: list[str]) -> float:
    """Seconds until FFmpeg reports its first complete segment (then it is stopped)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    took = time.perf_counter() - started
    proc.kill()
    proc.wait()
    assert line.strip().endswith(".ts"), f"ffmpeg made no segment: {line!r}"
    return took


def spawn(script: str, settings: Settings, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.update(settings.to_env())
    env["PYTHONUNBUFFERED"] = "1"
    return subprocess.Popen([sys.executable, str(ROOT / script)], env=env, stdout=log.open("w"),
                            stderr=subprocess.STDOUT)  # fmt: skip


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} not ready")


async def through_yaffw(client: httpx.AsyncClient, api: str, user: dict, item: str, height: int,
                        seek_fraction: float) -> tuple[float, int]:  # fmt: skip
    """Seconds from the playback request to the segment's last byte; and the segment number."""
    caps = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": height,
            "hls": True}  # fmt: skip
    started = time.perf_counter()
    r = await client.post(f"{api}/api/items/{item}/playback", json={"capabilities": caps}, headers=user["headers"])
    r.raise_for_status()
    body = r.json()
    master_url = urljoin(api, body["url"])
    master = await client.get(master_url)
    variant = next(line for line in master.text.splitlines() if "index.m3u8" in line)
    index_url = urljoin(master_url, variant)
    index = await client.get(index_url)
    uris = [line for line in index.text.splitlines() if line and not line.startswith("#")]
    n = int(len(uris) * seek_fraction)
    while True:
        seg = await client.get(urljoin(index_url, uris[n]))
        if seg.status_code != 503:
            break
    seg.raise_for_status()
    took = time.perf_counter() - started
    await client.delete(f"{api}/api/sessions/{body['session_id']}", headers=user["headers"])
    return took, n


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--height", type=int, default=720)
    args = parser.parse_args()
    src = make_source(args.seconds)
    admin_dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    dbname = f"yaffw_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f'CREATE DATABASE "{dbname}"')
    await conn.close()
    dsn = urlunparse(urlparse(admin_dsn)._replace(path="/" + dbname))
    await migrate(dsn)
    tmp = Path(tempfile.mkdtemp(prefix="yaffw-bench-"))
    settings = Settings(database_url=dsn, redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                        redis_prefix=f"bench:{uuid.uuid4().hex[:6]}:", jwt_secret=uuid.uuid4().hex,
                        scratch_dir=tmp / "scratch", image_dir=tmp / "images", host="127.0.0.1",
                        advertise_host="127.0.0.1")  # fmt: skip
    api_port, worker_port = free_port(), free_port()
    procs = [spawn("functions/api/main.py", settings.replace(port=api_port), tmp / "api.log"),
             spawn("functions/transcode/main.py", settings.replace(port=worker_port), tmp / "worker.log")]  # fmt: skip
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        api = f"http://127.0.0.1:{api_port}"
        wait_ready(api)
        wait_ready(f"http://127.0.0.1:{worker_port}")
        lib = await make_library(pool, src.parent, name="bench")
        item = await insert_item(pool, lib, src, name="Bench")
        user = await make_user(pool, settings, libraries=(lib,))
        duration = float(await pool.fetchval("SELECT duration_seconds FROM media_items WHERE id = $1", item))
        starts = hls.fixed_boundaries(duration, settings.segment_seconds)
        job = {"video": {"codec": "h264", "height": args.height, "bitrate": 4_000_000},
               "audio": {"codec": "aac", "channels": 2, "bitrate": 128_000, "stream_index": 1}}  # fmt: skip
        variant = hls.ladder(job, {"width": 1280, "height": 720}, None)[0]
        results: dict[str, list[float]] = {"yaffw first": [], "bare first": [], "yaffw seek": [], "bare seek": []}
        async with httpx.AsyncClient(timeout=120) as client:
            await through_yaffw(client, api, user, item, args.height, 0)  # warm-up (imports, pools, caches)
            for _ in range(args.runs):
                for label, fraction in (("first", 0.0), ("seek", 0.5)):
                    took, n = await through_yaffw(client, api, user, item, args.height, fraction)
                    results[f"yaffw {label}"].append(took)
                    spec = ffmpeg.EncodeSpec(source=str(src), variant=variant, starts=starts, start_segment=n,
                                             out_dir=tmp / f"bare-{uuid.uuid4().hex[:6]}", audio=job["audio"],
                                             audio_index=1, duration=duration)  # fmt: skip
                    spec.out_dir.mkdir()
                    results[f"bare {label}"].append(bare_first_segment(ffmpeg.build(spec, ffmpeg.Software())))
        med = {k: statistics.median(v) for k, v in results.items()}
        print(f"source: {src.name} ({duration:.1f} s, 1280x720 10-bit HEVC) -> H.264 {args.height}p, "
              f"{settings.segment_seconds} s segments, {args.runs} runs, medians")  # fmt: skip
        for k, v in results.items():
            print(f"  {k:12s} {med[k]:6.2f} s   ({', '.join(f'{x:.2f}' for x in v)})")
        print(f"ratio first segment yaffw/bare: {med['yaffw first'] / med['bare first']:.2f}")
        print(f"ratio seek to 50%   yaffw/bare: {med['yaffw seek'] / med['bare seek']:.2f}")
    finally:
        await pool.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
