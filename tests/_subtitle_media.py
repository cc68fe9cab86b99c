"""The subtitle tests' library: ``multi_track`` (tests/awkward_media.py, with its sidecar) and an MP4
with a mov_text track, scanned by the real scanner so sidecar rows exist as in production."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import asyncpg
import redis.asyncio as redis_async
from yaffw.keys import Keys
from yaffw.settings import Settings
from yaffw_scan.scanner import Scanner

from tests import awkward_media
from tests._scan_helpers import make_library, make_store

MOV_TEXT_LINE = "Hello from mov_text"  # 3 s to 5.5 s in mov_text.mp4
MULTI = next(a for a in awkward_media.FILES if a.name == "multi_track")
ASS, PGS, SRT = 3, 4, 5  # multi_track's subtitle streams: embedded ASS and PGS, then the sidecar
MOV_TEXT = 1  # mov_text.mp4's subtitle stream


def make_mov_text(folder: Path) -> Path:
    """A 6 s H.264 MP4 (no audio) with an English mov_text track (made once)."""
    srt = folder / ".mov_text.srt"
    srt.write_text(f"1\n00:00:03,000 --> 00:00:05,500\n{MOV_TEXT_LINE}\n")
    out = folder / "mov_text.mp4"
    if not out.exists():
        tmp = folder / f".mov_text.{time.time_ns()}.mp4"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=160x90:d=6",
             "-i", str(srt), "-map", "0", "-map", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
             "yuv420p", "-c:s", "mov_text", "-metadata:s:s:0", "language=eng", str(tmp)],
            check=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        tmp.rename(out)
    return out


async def scanned_library(
    pool: asyncpg.Pool, settings: Settings, folder: Path, name: str
) -> tuple[str, dict[str, str]]:
    """The files made in ``folder``, scanned into a new library; returns ``(library id, {file stem: item id})``."""
    awkward_media.make(folder, MULTI)
    make_mov_text(folder)
    lib = await make_library(pool, name, "movies", [folder])
    client = redis_async.from_url(settings.redis_url)
    try:
        scanner = Scanner(pool, client, make_store(settings), Keys(settings.redis_prefix), concurrency=2)
        [result] = await scanner.scan(lib)
    finally:
        await client.aclose()
    assert result.failed == 0, result
    rows = await pool.fetch("SELECT id, path FROM media_items WHERE library_id = $1", lib)
    return lib, {Path(r["path"]).stem: str(r["id"]) for r in rows}
