"""Where an HLS session's timeline ends: the end of the source's *streams*, not its container.

A container's duration is often a little (or a lot) longer than what it carries: an MP4 whose
audio track runs 24 ms past the video, a Matroska ``Duration`` rounded up, audio that goes on
after the picture ends. Segments cut from such a file end where the video ends, so a playlist
built from the container's figure lists a last sliver that no encoder can make (``404
beyond_end``) or claims seconds the segments do not have. The timeline therefore ends at the last
video frame (audio only: the last audio frame), measured on the encoder's clock: ``-copyts
-start_at_zero`` puts the file's start time at 0. The encoder stops all streams there (``-to``).

Read with PyAV: seek to the last keyframe before the container's end and demux to the end of the
file, about 20 ms even for a long film. ``yaffw.media.source.stream_end`` keeps the figure in the
``stream_ends`` table per file version, so the api, the worker and the opening maker read it once and
agree on the timeline.
"""

from __future__ import annotations

import logging
import os

import av
import av.error

from yaffw.media.ffmpeg import PYAV_OPTIONS
from yaffw.media.stills import PICTURE_CODECS

log = logging.getLogger(__name__)

# Seek this far before the container's end: the last keyframe of the main stream is then behind us.
_TAIL_SECONDS = 30.0


def _main_stream(container: av.container.InputContainer) -> av.stream.Stream | None:
    """The first moving-picture video stream, else the first audio stream."""
    for kind in ("video", "audio"):
        for stream in container.streams:
            name = stream.codec_context.codec.canonical_name if stream.codec_context is not None else None
            if stream.type == kind and (kind == "audio" or name not in PICTURE_CODECS):
                return stream
    return None


def _last_end(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    """The largest ``pts + duration`` of ``stream``'s packets from the current position on, in seconds."""
    end: float | None = None
    rate = stream.guessed_rate or stream.average_rate
    frame = float(1 / rate) if rate else 0.0
    for packet in container.demux(stream):
        if packet.pts is None or packet.time_base is None:
            continue
        length = float(packet.duration * packet.time_base) if packet.duration else frame
        t = float(packet.pts * packet.time_base) + length
        end = t if end is None else max(end, t)
    return end


def start_time(path: str | os.PathLike[str]) -> float:
    """The file's start time in seconds (0 when unknown): what ``-start_at_zero`` takes off every timestamp."""
    try:
        with av.open(os.fspath(path), metadata_errors="replace", container_options=PYAV_OPTIONS) as container:
            return container.start_time / av.time_base if container.start_time is not None else 0.0
    except (av.error.FFmpegError, OSError, ValueError):
        return 0.0


def stream_end(path: str | os.PathLike[str]) -> float | None:
    """Seconds from the file's start to the end of its main stream, or None when it cannot be read.

    ``None`` lets the caller fall back on the duration the scan stored.
    """
    try:
        with av.open(os.fspath(path), metadata_errors="replace", container_options=PYAV_OPTIONS) as container:
            stream = _main_stream(container)
            if stream is None:
                return None
            origin = container.start_time / av.time_base if container.start_time is not None else 0.0
            total = container.duration / av.time_base if container.duration else 0.0
            if total > _TAIL_SECONDS and stream.time_base:
                target = origin + total - _TAIL_SECONDS
                container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
                end = _last_end(container, stream)
                if end is None:  # the seek found nothing: read it all
                    container.seek(0, backward=True, any_frame=False)
                    end = _last_end(container, stream)
            else:
                end = _last_end(container, stream)
            return None if end is None else round(max(0.0, end - origin), 6)
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        log.warning("cannot read the stream end of %s: %s", os.fspath(path), exc)
        return None
