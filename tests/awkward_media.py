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
- ``ts_h264``: H.264 in MPEG-TS, whose timestamps start at 1.4 s (the muxer's default delay); copied;
- ``multi_track``: H.264 in Matroska, 10 s, English (330 Hz) and French (550 Hz) audio, an embedded
  ASS track (French, forced) saying :data:`ASS_LINE` from 1 s to 4 s, an embedded PGS track (English)
  showing a white rectangle (:data:`PGS_RECT`) from 2 s to 6 s, and a sidecar ``multi_track.en.srt``
  saying :data:`SRT_LINE` from 2 s to 5 s and :data:`SRT_ACROSS` from 5.5 s to 7 s.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.pgs_sup import Rect, sup_bytes
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
    # Files the FFmpeg command reads (``{dir}`` in ``args`` is the folder), written first.
    inputs: tuple[tuple[str, str | bytes], ...] = ()
    # Files left beside the made file (sidecars), relative names and contents.
    sidecars: tuple[tuple[str, str], ...] = ()


ASS_LINE = "Bonjour from ASS"
SRT_LINE = "Hello from SRT"
SRT_ACROSS = "Across a segment boundary"  # 5.5 s to 7 s: segments are cut near 6 s
PGS_RECT = Rect(width=480, height=270, x=140, y=200, w=200, h=40, start=2.0, end=6.0)
_ASS = f"""[Script Info]
ScriptType: v4.00+
PlayResX: 480
PlayResY: 270

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:04.00,Default,,0,0,0,,{{\\b1}}{ASS_LINE}
"""  # a backslash at a line end continues the line
_SRT = f"1\n00:00:02,000 --> 00:00:05,000\n{SRT_LINE}\n\n2\n00:00:05,500 --> 00:00:07,000\n{SRT_ACROSS}\n"


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
    Awkward("multi_track", "mkv", (*_video(10), *_tone(10), *_tone(10, 550), "-i", "{dir}/.multi_track.ass",
                                   "-i", "{dir}/.multi_track.sup", "-map", "0", "-map", "1", "-map", "2", "-map", "3",
                                   "-map", "4", *_X264, *_AAC, "-c:s:0", "ass", "-c:s:1", "copy",
                                   "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
                                   "-disposition:a:0", "default", "-disposition:a:1", "0",
                                   "-metadata:s:s:0", "language=fra", "-metadata:s:s:0", "title=Signs",
                                   "-disposition:s:0", "forced", "-metadata:s:s:1", "language=eng",
                                   "-disposition:s:1", "0"),
            inputs=((".multi_track.ass", _ASS), (".multi_track.sup", sup_bytes(PGS_RECT))),
            sidecars=(("multi_track.en.srt", _SRT),)),
)  # fmt: skip


def make(folder: Path, awkward: Awkward) -> Path:
    """The file for ``awkward`` in ``folder`` (made once), with its sidecars."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in awkward.inputs:
        _write_once(folder / name, body)
    path = _make_once(folder / f"{awkward.name}.{awkward.suffix}", *(a.replace("{dir}", str(folder))
                                                                     for a in awkward.args))  # fmt: skip
    for name, body in awkward.sidecars:
        _write_once(folder / name, body)
    return path


def _write_once(path: Path, body: str | bytes) -> None:
    """Write ``path`` unless it holds ``body`` already (renamed into place: concurrent runs share it)."""
    data = body.encode() if isinstance(body, str) else body
    if path.exists() and path.read_bytes() == data:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.rename(path)


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
