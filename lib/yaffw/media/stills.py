"""Still images: a JPEG frame taken from a video, and the size of an image file (PyAV, in process)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error

from yaffw.media.probe import MediaError

MAX_WIDTH = 1280


@dataclass(frozen=True, slots=True)
class Still:
    """An encoded image and its size in pixels."""

    data: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


def extract_still(path: str | os.PathLike[str], at: float = 0.1, max_width: int = MAX_WIDTH) -> Still:
    """A JPEG of the keyframe at or before ``at`` (a share of the duration) of the first video stream,
    scaled down to ``max_width``.

    The keyframe rather than the exact instant: decoding from it to the instant would cost up to a
    whole group of pictures per file, and a keyframe is as good a poster.
    :raises MediaError: if there is no video stream or no frame can be decoded.
    """
    try:
        with av.open(os.fspath(path), metadata_errors="replace") as container:
            video = next((s for s in container.streams.video if s.codec_context.name not in ("mjpeg", "png")), None)
            if video is None:
                raise MediaError("no video stream to take a still from")
            # One decoding thread: the scan already runs one file per core.
            video.codec_context.thread_count = 1
            if container.duration:
                container.seek(int(container.duration * at), backward=True, any_frame=False)
            frame = next(container.decode(video), None)
            if frame is None:
                raise MediaError("no frame could be decoded")
            width, height = frame.width, frame.height
            if width > max_width:
                width, height = max_width, max(2, round(height * max_width / width / 2) * 2)
            picture = frame.reformat(width=width, height=height, format="yuvj420p")
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
            encoder.time_base = Fraction(1, 25)
            encoder.options = {"qmin": "2", "qmax": "4"}  # a poster, so better than the default quality
            data = b"".join(bytes(p) for p in encoder.encode(picture))
            data += b"".join(bytes(p) for p in encoder.encode(None))
            return Still(data, width, height)
    except av.error.FFmpegError as exc:
        if isinstance(exc, OSError):
            raise
        raise MediaError(f"no still could be taken ({exc.strerror or exc})") from exc


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(width, height) of an image file (JPEG, PNG, WebP). :raises MediaError: if it is no image."""
    try:
        with av.open(os.fspath(path)) as container:
            stream = container.streams.video[0]
            return stream.codec_context.width, stream.codec_context.height
    except (av.error.FFmpegError, IndexError) as exc:
        if isinstance(exc, OSError):
            raise
        raise MediaError(f"not an image ({exc})") from exc
