"""Source keyframe times, for copied-video HLS segment boundaries (DESIGN §5.3).

Read as Kyoo does: ffprobe lists the video *packets* with their flags and we keep those flagged
``K`` (``-skip_frame nokey`` decodes and is far slower). The list is cached in the ``keyframes``
table by item and ``header_hash``, so a file is read once per version.

Times are on the encoder's clock (``-copyts -start_at_zero``): the file's start time is taken off,
so an MPEG-TS source whose timestamps begin at 1.4 s is cut where its keyframes really are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import asyncpg

from yaffw.errors import BadInput
from yaffw.media import timeline
from yaffw.media.ffmpeg import INPUT_OPTIONS

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 300.0
# Appended to the header hash a cached list is stored under: lists cached before times were taken
# from the file's start (raw timestamps) no longer match, and are probed again.
_CACHE_VERSION = "+zero"


def parse(text: str) -> list[float]:
    """Keyframe times from ffprobe's ``pts_time,flags`` CSV lines, sorted, without duplicates."""
    out: set[float] = set()
    for line in text.splitlines():
        pts, _, flags = line.strip().partition(",")
        if not flags.startswith("K") or pts in ("", "N/A"):
            continue
        try:
            out.add(round(float(pts), 6))
        except ValueError:
            continue
    return sorted(out)


async def probe(path: str, timeout: float = PROBE_TIMEOUT) -> list[float]:
    """Run ffprobe over the first video stream's packets. :raises BadInput: if it fails."""
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "ffprobe", "-loglevel", "error", "-select_streams", "V:0", "-show_entries", "packet=pts_time,flags",
        "-fflags", "+genpts", "-of", "csv=print_section=0", *INPUT_OPTIONS, path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log.warning("keyframes of %s: no answer in %.0fs", path, timeout)
        raise BadInput(f"the file's keyframes could not be read in {timeout:.0f}s", code="probe_failed") from None
    if proc.returncode != 0:
        # The client is told what failed, not where the file lies or what ffprobe said of it.
        log.warning("keyframes of %s: ffprobe failed: %s", path, err.decode(errors="replace")[-300:])
        raise BadInput("the file's keyframes could not be read (damaged or unsupported file)", code="probe_failed")
    origin = await asyncio.to_thread(timeline.start_time, path)
    times = [round(t - origin, 6) for t in parse(out.decode(errors="replace"))]
    log.info("keyframes of %s: %d in %.2fs", path, len(times), time.perf_counter() - started)
    return times


async def get(conn: asyncpg.Pool | asyncpg.Connection, item_id: str, header_hash: str | None, path: str) -> list[float]:
    """The item's keyframe times: from the cache when its ``header_hash`` matches, else probed and stored."""
    row: Any = await conn.fetchrow("SELECT header_hash, times FROM keyframes WHERE item_id = $1::uuid", item_id)
    version = (header_hash or "") + _CACHE_VERSION
    if row is not None and row["header_hash"] == version:
        return list(row["times"])
    times = await probe(path)
    await conn.execute(
        """
        INSERT INTO keyframes (item_id, header_hash, times) VALUES ($1::uuid, $2, $3)
        ON CONFLICT (item_id) DO UPDATE SET header_hash = EXCLUDED.header_hash, times = EXCLUDED.times,
            created_at = now()
        """,
        item_id, version, times,
    )  # fmt: skip
    return times
