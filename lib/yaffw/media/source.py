"""What the api and the worker both need to know about an HLS session's source file.

:func:`load` reads the item's row and streams from PostgreSQL (paths come from the database, never
from a URL or a queue message); :func:`plan` turns them and the session's job into the variants and
segment start times. The api (playlists) and the worker (encoder) call the same two functions, so
they agree on every segment.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from yaffw.errors import NotFound
from yaffw.media import hls, keyframes, safe_path, timeline
from yaffw.queue import JobPayload

log = logging.getLogger(__name__)

_PICTURE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp"})


@dataclass(frozen=True)
class Source:
    """One media file as the database knows it."""

    item_id: str
    path: str
    header_hash: str | None
    duration: float
    bitrate: int | None
    video: dict[str, Any] | None
    audio: dict[str, Any] | None
    # A film in parts (issue 16): every part's path and length, in order; () for a single file.
    parts: tuple[tuple[str, float], ...] = ()
    # The sidecar file of an image subtitle burned in (a VobSub .idx), None for an embedded one.
    burn_path: str | None = None


@dataclass(frozen=True)
class Plan:
    """The session's variants (best first), every segment's start time, and where the timeline ends
    (``duration``: the end of the source's streams, which the encoder stops at)."""

    variants: list[hls.Variant]
    starts: list[float]
    keyframes: list[float]
    duration: float

    def variant(self, name: str | None) -> hls.Variant | None:
        """The variant called ``name`` (the first one for None)."""
        if name is None:
            return self.variants[0]
        return hls.find_variant(self.variants, name)


async def load(conn: asyncpg.Pool | asyncpg.Connection, item_id: str, audio_index: int | None,
               burn_subtitle: int | None = None) -> Source:  # fmt: skip
    """The item's file and its video and chosen audio stream (and the sidecar file of the subtitle
    ``burn_subtitle``, when that one is a sidecar).

    Every file is checked as :mod:`yaffw.media.safe_path` says before anything (PyAV, ffprobe,
    FFmpeg) opens it.

    :raises NotFound: when the item is gone or is not a file with a duration; ``file_refused`` when a
        file now leads out of the library or is not a regular file.
    """
    try:
        item = await conn.fetchrow(
            "SELECT path, header_hash, duration_seconds, bitrate, file_duration_seconds, film_id,"
            " (SELECT l.paths FROM libraries l WHERE l.id = media_items.library_id) AS roots"
            " FROM media_items WHERE id = $1::uuid",
            item_id,
        )
    except (asyncpg.DataError, ValueError) as exc:
        raise NotFound("item not found") from exc
    if item is None or not item["path"] or not item["duration_seconds"]:
        raise NotFound("item not found or not playable")
    rows = await conn.fetch(
        "SELECT stream_index, type, codec, profile, level, width, height, bitrate, channels, is_default, "
        "external_path FROM media_streams WHERE item_id = $1::uuid ORDER BY stream_index",
        item_id,
    )
    streams = [dict(r) for r in rows]
    videos = [s for s in streams if s["type"] == "video" and (s["codec"] or "") not in _PICTURE_CODECS]
    audios = [s for s in streams if s["type"] == "audio"]
    audio = next((s for s in audios if s["stream_index"] == audio_index), None)
    if audio is None and audios:
        audio = next((s for s in audios if s["is_default"]), audios[0])
    parts: tuple[tuple[str, float], ...] = ()
    if item["film_id"] is None:
        others = await conn.fetch(
            "SELECT path, file_duration_seconds, duration_seconds FROM media_items"
            " WHERE film_id = $1::uuid AND part_number IS NOT NULL ORDER BY part_number",
            item_id,
        )
        if others:
            first = float(item["file_duration_seconds"] or item["duration_seconds"])
            rest = ((r["path"], float(r["file_duration_seconds"] or r["duration_seconds"] or 0)) for r in others)
            parts = ((item["path"], first), *rest)
    burned = next((s for s in streams if s["stream_index"] == burn_subtitle and s["type"] == "subtitle"), None)
    burn_path = (burned or {}).get("external_path") or None
    roots = list(item["roots"] or [])
    for path in [*([p for p, _ in parts] or [item["path"]]), *([burn_path] if burn_path else [])]:
        await asyncio.to_thread(safe_path.check_media, path, roots)
    return Source(item_id, item["path"], item["header_hash"], float(item["duration_seconds"]), item["bitrate"],
                  videos[0] if videos else None, audio, parts, burn_path)  # fmt: skip


async def stream_end(conn: asyncpg.Pool | asyncpg.Connection, source: Source) -> float | None:
    """:func:`yaffw.media.timeline.stream_end` of the source's file, kept in ``stream_ends`` per item
    and ``header_hash`` (measured by whichever of the api, the worker or the opening maker plans the
    file first); None when the file cannot be read."""
    if source.header_hash:
        kept = await conn.fetchval(
            "SELECT seconds FROM stream_ends WHERE item_id = $1::uuid AND header_hash = $2", source.item_id,
            source.header_hash,
        )  # fmt: skip
        if kept is not None:
            return float(kept)
    end = await asyncio.to_thread(timeline.stream_end, source.path)
    if end is not None and source.header_hash:
        try:
            await conn.execute(
                "INSERT INTO stream_ends (item_id, header_hash, seconds) VALUES ($1::uuid, $2, $3)"
                " ON CONFLICT (item_id) DO UPDATE SET header_hash = EXCLUDED.header_hash,"
                " seconds = EXCLUDED.seconds, created_at = now()",
                source.item_id, source.header_hash, end,
            )  # fmt: skip
        except asyncpg.PostgresError as exc:  # e.g. the item removed meanwhile: the figure still holds
            log.warning("stream end of %s not kept: %s", source.item_id, exc)
    return end


def concat_list(parts: tuple[tuple[str, float], ...]) -> str:
    """An ``ffconcat`` list of a film's parts for FFmpeg's concat demuxer. Each part's length is
    given, so a seek into a later part lands without opening the parts before it."""

    def quoted(path: str) -> str:
        return "'" + path.replace("'", "'\\''") + "'"

    lines = ["ffconcat version 1.0"]
    for path, duration in parts:
        lines += [f"file {quoted(path)}", f"duration {duration:.6f}"]
    return "\n".join(lines) + "\n"


async def plan(conn: asyncpg.Pool | asyncpg.Connection, source: Source, job: JobPayload,
               max_height: int | None = None) -> Plan:  # fmt: skip
    """Variants and segment starts for ``job`` on ``source``.

    Copied video needs the source's keyframes: read from the cache, or probed once and stored. The
    timeline ends where the streams do (:func:`yaffw.media.timeline.stream_end`), not at the
    container's duration the scan stored (that is only the fallback when the file cannot be read).
    """
    variants = hls.ladder(job, source.video, source.audio, source_bitrate=source.bitrate, max_height=max_height)
    seconds = float(job.segment_seconds)
    kfs: list[float] = []
    if job.copies_video and source.video is not None:
        kfs = await keyframes.get(conn, source.item_id, source.header_hash, source.path)
    if source.parts:
        # A film in parts: the parts follow each other at their listed lengths (the concat list's
        # durations); the timeline ends where the last part's streams do.
        *before, (last, length) = source.parts
        tail = await asyncio.to_thread(timeline.stream_end, last)
        end = sum(d for _, d in before) + (tail or length)
    else:
        end = await stream_end(conn, source) or source.duration
    return Plan(variants, hls.boundaries(end, seconds, kfs or None, ramp=job.short_start), kfs, end)
