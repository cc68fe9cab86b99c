"""Read a media file's container and stream facts with PyAV (FFmpeg's libraries, in process).

PyAV rather than the ``ffprobe`` program: on our 2-core machine one ``ffprobe -show_streams
-show_format`` costs ~145 ms, nearly all of it starting the process and loading its libraries, while
opening the same file with PyAV costs 2–4 ms (see docs/scan.md). In process we can also check that
the data really reaches the end of the file (a truncated MP4 with its index at the front probes
"fine" with ffprobe) and grab a still frame without a second program.

Stream facts use FFmpeg's spellings (codec ``h264``, ``hevc``, ``aac``; container family
``mov,mp4,m4a,3gp,3g2,mj2``), as ffprobe prints them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from typing import Any

import av
import av.error

from yaffw.errors import YaffwError
from yaffw.media.ffmpeg import PYAV_OPTIONS
from yaffw.media.stills import PICTURE_CODECS, Still, grab

log = logging.getLogger(__name__)

# Past this share of the duration there must still be packets, else the file is cut short.
_END_CHECK_AT = 0.9
_END_CHECK_MAX_PACKETS = 5000


class MediaError(YaffwError):
    """The file is empty, truncated, corrupt or not media at all. ``message`` says which."""

    code = "bad_media"
    status = 422


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """One stream, as stored in ``media_streams`` (``index`` is ``stream_index``)."""

    index: int
    type: str  # video, audio, subtitle, attachment, data
    codec: str | None
    profile: str | None = None
    level: int | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    bit_depth: int | None = None
    pixel_format: str | None = None
    channels: int | None = None
    channel_layout: str | None = None
    sample_rate: int | None = None
    bitrate: int | None = None
    language: str | None = None
    title: str | None = None
    is_default: bool = False
    is_forced: bool = False
    is_external: bool = False
    external_path: str | None = None

    def row(self) -> dict[str, Any]:
        """Column values for ``media_streams`` (without ``item_id``)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}  # flat: no asdict deep copy
        out["stream_index"] = out.pop("index")
        return out


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """Container facts, streams and the container's tags (keys lower-cased)."""

    container: str
    duration_seconds: float | None
    bitrate: int | None
    streams: tuple[StreamInfo, ...]
    tags: dict[str, str] = field(default_factory=dict)
    still: Still | None = None

    @property
    def video(self) -> StreamInfo | None:
        """The first video stream that is a moving picture (not cover art)."""
        return next((s for s in self.streams if s.type == "video" and s.codec not in PICTURE_CODECS), None)


def _positive(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _language(metadata: dict[str, str]) -> str | None:
    lang = (metadata.get("language") or "").strip().lower()
    return None if lang in ("", "und", "unk", "xx") else lang


def _stream(stream: Any) -> StreamInfo:
    meta = {k.lower(): v for k, v in stream.metadata.items()}
    cc = stream.codec_context
    disposition = int(stream.disposition)
    facts: dict[str, Any] = {
        "index": stream.index,
        "type": stream.type if stream.type in ("video", "audio", "subtitle", "attachment") else "data",
        # The codec's canonical name (``subrip``, ``av1``), not the decoder's (``srt``, ``libdav1d``).
        "codec": cc.codec.canonical_name if cc is not None else None,
        "language": _language(meta),
        "title": meta.get("title") or None,
        "is_default": bool(disposition & int(av.stream.Disposition.default)),
        "is_forced": bool(disposition & int(av.stream.Disposition.forced)),
        # MKV muxers write per-stream statistics tags when the codec reports no bitrate.
        "bitrate": _positive(stream.bit_rate) or _positive(cc.bit_rate if cc else None) or _positive(meta.get("bps")),
    }
    if cc is not None:
        profile = getattr(cc, "profile", None)
        facts["profile"] = profile if isinstance(profile, str) and profile else None
        level = getattr(cc, "level", None)
        facts["level"] = level if isinstance(level, int) and level >= 0 else None
    if stream.type == "video" and cc is not None:
        rate = stream.average_rate or stream.guessed_rate
        pix_fmt = cc.pix_fmt
        facts.update(
            width=_positive(cc.width),
            height=_positive(cc.height),
            frame_rate=round(float(rate), 3) if rate else None,
            pixel_format=pix_fmt,
            bit_depth=av.VideoFormat(pix_fmt).components[0].bits if pix_fmt else None,
        )
    elif stream.type == "audio" and cc is not None:
        facts.update(
            channels=_positive(cc.channels),
            channel_layout=cc.layout.name if cc.layout is not None else None,
            sample_rate=_positive(cc.sample_rate),
        )
    return StreamInfo(**facts)


def _check_end(container: Any, duration: float, size: int) -> None:
    """Seek to 90% and demand packets there: catches files cut short whose headers look whole."""
    target = duration * _END_CHECK_AT
    try:
        container.seek(int(target * av.time_base), backward=True, any_frame=False)
        for n, packet in enumerate(container.demux()):
            if packet.pos is not None and packet.pos >= 0 and packet.pos + packet.size > size:
                break
            if packet.pts is not None and packet.time_base is not None:
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                if end >= target:
                    return
            if n >= _END_CHECK_MAX_PACKETS:
                return  # a file with endless tiny packets; whatever it is, it is not cut short here
    except av.error.FFmpegError as exc:
        raise MediaError(f"unreadable near the end ({exc.strerror or exc})") from exc
    raise MediaError(f"truncated: the data ends before {target:.1f} s of {duration:.1f} s")


def probe(path: str | os.PathLike[str], *, check_end: bool = True, still_at: float | None = None) -> MediaInfo:
    """Container and stream facts of ``path``.

    With ``check_end`` (the default) it also reads a few packets at 90% of the duration, so a
    truncated file fails here rather than at playback. With ``still_at`` (a share of the duration)
    it grabs a JPEG still there while the file is open (``MediaInfo.still``; None if the video
    cannot be decoded — the file is still playable as far as the probe can tell).
    :raises MediaError: for empty, truncated, corrupt or non-media files.
    :raises OSError: if the file cannot be opened at all (missing, no permission).
    """
    size = os.stat(path).st_size
    if size == 0:
        raise MediaError("empty file")
    try:
        with av.open(os.fspath(path), metadata_errors="replace", container_options=PYAV_OPTIONS) as container:
            duration = container.duration / av.time_base if container.duration else None
            streams = tuple(_stream(s) for s in container.streams)
            if not any(s.type in ("video", "audio") for s in streams):
                raise MediaError("no audio or video stream")
            if check_end and duration:
                _check_end(container, duration, size)
            still = None
            if still_at is not None and any(s.type == "video" and s.codec not in PICTURE_CODECS for s in streams):
                try:
                    still = grab(container, still_at)
                except (LookupError, av.error.FFmpegError) as exc:
                    log.warning("no still from %s: %s", os.fspath(path), exc)
            return MediaInfo(
                container=container.format.name,
                duration_seconds=round(duration, 3) if duration else None,
                bitrate=_positive(container.bit_rate),
                streams=streams,
                tags={k.lower(): v for k, v in container.metadata.items()},
                still=still,
            )
    except av.error.FFmpegError as exc:
        if isinstance(exc, OSError):  # missing, no permission, I/O error: not the file's fault
            raise
        raise MediaError(f"not readable as media ({exc.strerror or exc})") from exc
