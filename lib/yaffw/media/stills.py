"""Still images: a JPEG frame grabbed from an open video (PyAV), and the size of an image file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.error

from yaffw.media.ffmpeg import PYAV_OPTIONS

MAX_WIDTH = 1280
# Cover art rides in video streams too; it is not a frame of the film.
PICTURE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp"})


@dataclass(frozen=True, slots=True)
class Still:
    """An encoded image and its size in pixels."""

    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def grab(container: Any, at: float = 0.1, max_width: int = MAX_WIDTH) -> Still:
    """A JPEG of the keyframe at or before ``at`` (a share of the duration) of the first video stream
    of an open PyAV ``container``, scaled down to ``max_width``.

    The keyframe rather than the exact instant: decoding from it to the instant would cost up to a
    whole group of pictures per file, and a keyframe makes as good a poster.
    :raises LookupError: no video stream, or no frame could be decoded.
    :raises av.error.FFmpegError: the stream cannot be decoded.
    """
    video = next((s for s in container.streams.video if s.codec_context.name not in PICTURE_CODECS), None)
    if video is None:
        raise LookupError("no video stream to take a still from")
    # One decoding thread: the scan already reads one file per core.
    video.codec_context.thread_count = 1
    if container.duration:
        container.seek(int(container.duration * at), backward=True, any_frame=False)
    frame = next(container.decode(video), None)
    if frame is None:
        raise LookupError("no frame could be decoded")
    width, height = frame.width, frame.height
    if width > max_width:
        width, height = max_width, max(2, round(height * max_width / width / 2) * 2)
    picture = frame.reformat(width=width, height=height, format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"qmin": "2", "qmax": "4"}  # a poster: better than the default quality
    data = b"".join(bytes(p) for p in encoder.encode(picture))
    data += b"".join(bytes(p) for p in encoder.encode(None))
    return Still(data, width, height)


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) of an image file (JPEG, PNG, WebP).

    :raises ValueError: if it is not an image. :raises OSError: if it cannot be read.
    """
    try:
        with av.open(os.fspath(path), container_options=PYAV_OPTIONS) as container:
            stream = container.streams.video[0]
            return stream.codec_context.width, stream.codec_context.height
    except (av.error.FFmpegError, IndexError) as exc:
        if isinstance(exc, OSError):
            raise
        raise ValueError(f"not an image ({exc})") from exc
