"""A small library of awkward files made with FFmpeg: what real films do to a segment plan.

Each is short (7–12 s) and small (480x270 or less) so that transcoding them, and playing them to
the end in a browser, stays quick on a loaded 2-core machine. Files are made once and cached next
to the sample library (see :func:`tests.transcode_support._make_once`).

- ``tail_hevc``: HEVC + AAC in MP4, 12 s of video and 12.024 s of audio (the container's duration is
  the audio's: the "60 s film with an 11th segment of 0.024 s" in small);
- ``long_audio_hevc``: HEVC video of 7 s with 10 s of audio in Matroska;
- ``ntsc_hevc``: HEVC at 23.976 fps (24000/1001), 9 s;
- ``vfr_h264``: H.264 with jittery frame times (VFR), 10 s, audio 0.3 s longer; copied (direct stream);
- ``two_lang_h264``: H.264 with an English and a French audio track, 10 s; copied, played in French;
- ``ts_h264``: H.264 in MPEG-TS, whose timestamps start at 1.4 s (the muxer's default delay); copied.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.transcode_support import _make_once

_X265 = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:keyint=48", "-pix_fmt", "yuv420p"]
_X264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "48", "-keyint_min", "48"]
_AAC = ["-c:a", "aac", "-b:a", "64k", "-ac", "2"]


def _video(seconds: float, rate: str = "24", size: str = "480x270") -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]


def _tone(seconds: float, freq: int = 330) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate=48000:duration={seconds}"]


@dataclass(frozen=True)
class Awkward:
    """One awkward file: how to make it, and the audio stream to play (None: the default)."""

    name: str
    suffix: str
    args: tuple[str, ...]
    audio_index: int | None = None


FILES = (
    Awkward("tail_hevc", "mp4", (*_video(12), *_tone(12.024), *_X265, *_AAC)),
    Awkward("long_audio_hevc", "mkv", (*_video(7), *_tone(10), *_X265, *_AAC)),
    Awkward("ntsc_hevc", "mp4", (*_video(9, "24000/1001"), *_tone(9), *_X265, *_AAC, "-shortest")),
    Awkward("vfr_h264", "mkv", (*_video(10, "25"), *_tone(10.3), "-vf", "setpts='(N/25+0.012*sin(N*1.7))/TB'",
                                "-fps_mode", "vfr", *_X264, "-g", "25", "-keyint_min", "25", *_AAC)),
    Awkward("two_lang_h264", "mkv", (*_video(10), *_tone(10), *_tone(10, 550), "-map", "0", "-map", "1", "-map", "2",
                                     *_X264, *_AAC, "-metadata:s:a:0", "language=eng", "-metadata:s:a:1",
                                     "language=fra"), audio_index=2),
    Awkward("ts_h264", "ts", (*_video(10), *_tone(10), *_X264, "-g", "24", "-keyint_min", "24", *_AAC)),
)  # fmt: skip


def make(folder: Path, awkward: Awkward) -> Path:
    """The file for ``awkward`` in ``folder`` (made once)."""
    return _make_once(folder / f"{awkward.name}.{awkward.suffix}", *awkward.args)


def video_seconds(path: Path) -> float:
    """How long the file's first video stream lasts, from its packets (independent of yaffw's code):
    the last ``pts + duration`` less the file's start time."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "V:0", "-show_entries", "packet=pts_time,duration_time:"
         "format=start_time", "-of", "json", str(path)], check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    ends = [float(p["pts_time"]) + float(p.get("duration_time") or 0) for p in data["packets"] if "pts_time" in p]
    return max(ends) - float(data["format"].get("start_time") or 0)


def container_seconds(path: Path) -> float:
    """The container's duration, as ffprobe (and the scan) report it."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True).stdout  # fmt: skip
    return float(out.strip())


def segment_seconds(path: Path) -> tuple[float, float]:
    """An MPEG-TS segment's (video duration, span of all its streams together), as ffprobe reports them.

    The spans of consecutive segments overlap by the few audio packets muxed after a cut, so sums
    are taken over the video durations.
    """
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,duration",
                          "-of", "json", str(path)], check=True, capture_output=True, text=True).stdout  # fmt: skip
    data = json.loads(out)
    video = next(float(s["duration"]) for s in data["streams"] if s["codec_type"] == "video")
    return video, float(data["format"]["duration"])
