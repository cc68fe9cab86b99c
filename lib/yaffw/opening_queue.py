"""Openings (issue 13): which films an idle worker should make the first segments of, and for whom.

A new session's first frame waits for FFmpeg to make segment 0 (about half a second of CPU for
1080p HEVC on a small machine) unless that film's first segments exist already. The scan asks for
them ahead of any playback: each film or episode file it adds or changes is pushed onto
``queue:openings``; a transcode worker with no session takes one, makes the first ``S`` seconds
(the short segments of the ramp, :func:`yaffw.media.hls.ramp`) of the variant the reference client
starts with, and keeps them in object storage (``functions/transcode/yaffw_transcode/openings.py``),
where every worker finds them when the film is first played. KEDA wakes a worker for the list
(``keda/scaledobject.yaml``). ``YAFFW_OPENINGS=0`` turns all of it off.

The **reference client** is a browser that plays H.264 and AAC with no size or bitrate limit and
the file's default audio track: what yaffw's web player (and Jellyfin's) asks for a film it cannot
play as it is. A client that asks for something else (a lower limit, another audio track, a
burned-in subtitle) has another FFmpeg command line, so it finds no opening and encodes as before.
"""

from __future__ import annotations

import time
from typing import Any

from yaffw.errors import BadInput
from yaffw.keys import Keys
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import decide
from yaffw.queue import JobPayload

REFERENCE_CLIENT = Capabilities()  # unknown lists: MP4, H.264 up to High, AAC; no limits


def request_sync(pipe: Any, keys: Keys, item_ids: list[str]) -> None:
    """Queue ``item_ids`` for openings on a Redis pipeline (the scan's, sent with its item events)."""
    if item_ids:
        pipe.rpush(keys.openings_queue, *item_ids)


async def take(redis: Any, keys: Keys) -> str | None:
    """The next item id whose opening is wanted, or None. Taken, not held: an opening is only an
    optimisation, so one lost with a crashed worker is made by the film's first playback instead."""
    raw = await redis.lpop(keys.openings_queue)
    if raw is None:
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw)


async def put_back(redis: Any, keys: Keys, item_id: str) -> None:
    """Return an item whose opening was interrupted (a playback came first) to the end of the queue."""
    await redis.rpush(keys.openings_queue, item_id)


def reference_job(item: dict[str, Any], streams: list[dict[str, Any]], *, segment_seconds: int,
                  hwaccel: str) -> JobPayload | None:  # fmt: skip
    """The job of the reference client's session from the film's start, or None when that session
    would not encode video (direct play or copied video start fast without an opening).

    ``item`` needs ``id``, ``path``, ``container``, ``bitrate`` and ``part_count``; ``streams`` are the
    item's ``media_streams`` rows.
    """
    try:
        decision = decide(item, streams, REFERENCE_CLIENT)
    except BadInput:
        return None
    if decision.method != "transcode" or decision.burn_subtitle is not None:
        return None
    return decision.job(sid=f"opening-{item['id']}", item=item, segment_seconds=segment_seconds, hwaccel=hwaccel,
                        created_at=time.time(), short_start=True)  # fmt: skip
