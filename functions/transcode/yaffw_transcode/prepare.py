"""Making a film's opening ahead of its first playback (issue 13; lib/yaffw/opening_queue.py).

An idle worker takes an item id the scan queued, works out the job the reference client's session
from the film's start would carry, and runs that job's encoder from segment 0 until the first ``S``
seconds exist; they go to object storage (``openings.py``) and the local first-segment cache. The
worker cancels this the moment a playback job arrives (the item goes back to the queue).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
from yaffw import opening_queue
from yaffw.errors import BadInput, NotFound, Unavailable
from yaffw.media import ffmpeg, hls
from yaffw.media import source as media_source
from yaffw.settings import Settings

from yaffw_transcode.first_segments import FirstSegments
from yaffw_transcode.openings import Openings
from yaffw_transcode.session import TranscodeSession

log = logging.getLogger(__name__)

# Longest an opening may take (a few seconds of video; a stuck encoder must not hold the worker).
OPENING_TIMEOUT = 120.0

_ITEM = (
    "SELECT i.id, i.path, i.type, i.container, i.bitrate, i.part_number,"
    " (SELECT 1 + count(*) FROM media_items p WHERE p.film_id = i.id AND p.part_number IS NOT NULL) AS part_count"
    " FROM media_items i WHERE i.id = $1::uuid"
)
_STREAMS = "SELECT * FROM media_streams WHERE item_id = $1::uuid ORDER BY stream_index"


async def make_opening(pool: asyncpg.Pool, item_id: str, *, settings: Settings, hw: ffmpeg.HwAccel, scratch: Path,
                       cache: FirstSegments, openings: Openings) -> str:  # fmt: skip
    """Make and store the opening of ``item_id``; returns what happened: ``made``, ``exists``,
    ``skipped`` (nothing to make: gone, a part, direct play, copied video) or ``failed``."""
    try:
        row = await pool.fetchrow(_ITEM, item_id)
    except (asyncpg.DataError, ValueError):
        return "skipped"
    if row is None or not row["path"] or row["part_number"] is not None or row["type"] in ("series", "season"):
        return "skipped"
    streams = [dict(r) for r in await pool.fetch(_STREAMS, item_id)]
    job = opening_queue.reference_job(dict(row), streams, segment_seconds=settings.segment_seconds,
                                      hwaccel=settings.hwaccel)  # fmt: skip
    if job is None:
        return "skipped"
    try:
        src = await media_source.load(pool, item_id, job.audio_index, None)
        plan = await media_source.plan(pool, src, job)
    except (NotFound, BadInput, Unavailable) as exc:  # NotFound includes a file refused by safe_path
        log.info("opening of %s skipped: %s", item_id, exc.message)
        return "skipped"
    variant = hls.start_variant(plan.variants).name
    # No openings store in the session itself: this function decides what is stored, once.
    session = TranscodeSession(job, "", src, plan, scratch / job.sid, hw, cache)
    try:
        key = session.run_key(variant)
        if key is None:
            return "skipped"
        count = session.cached_count
        if await openings.has(item_id, key, count):
            return "exists"
        await session.start(variant, 0)
        if not await session.wait_made(variant, count - 1, OPENING_TIMEOUT):
            log.warning("opening of %s failed: %s", item_id, session.error or "no segments")
            return "failed"
        files = [session.path(variant, n) for n in range(count)]
        return "made" if await openings.publish(item_id, key, files) else "failed"
    finally:
        # Shielded: a playback cancelling this must still find the encoder stopped and scratch freed.
        await asyncio.shield(session.close())
