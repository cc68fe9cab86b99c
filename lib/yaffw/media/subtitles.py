"""Text subtitles as WebVTT: FFmpeg converts a stream (embedded or a sidecar) once, and the cues are
then sliced into the segments of an HLS subtitle playlist.

Times: an embedded stream is converted with ``-copyts -start_at_zero``, as the HLS encoder reads the
file (:func:`yaffw.media.ffmpeg.build`), so a cue's time is the player's time for both the whole
``.vtt`` of direct play and the segments. A sidecar has no container start to remove: ``-copyts`` alone.

Segments: our MPEG-TS segments carry the timeline's seconds as 90 kHz PTS with no offset (``-copyts
-start_at_zero -muxdelay 0``: segment ``n`` of a transcode starts at PTS ``starts[n] * 90000``,
measured with ffprobe in tests/test_hls_subtitles.py), so every WebVTT segment says
``X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000`` and keeps absolute cue times.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from yaffw.errors import BadInput, Unavailable
from yaffw.media import languages
from yaffw.media.ffmpeg import INPUT_OPTIONS
from yaffw.media.tracks import IMAGE_SUBTITLES

# Converted to WebVTT by FFmpeg (its canonical codec names).
TEXT_CODECS = frozenset({"subrip", "ass", "ssa", "webvtt", "mov_text", "text", "microdvd", "subviewer",
                         "subviewer1", "sami", "realtext", "jacosub", "mpl2", "pjs", "vplayer", "stl"})  # fmt: skip
# Pictures: shown only by burning them into the video (a transcode).
IMAGE_CODECS = IMAGE_SUBTITLES
# The PTS that media time 0 has in our MPEG-TS segments (see the module's docstring).
MPEGTS_AT_ZERO = 0
_CONVERT_TIMEOUT = 120.0
_INDEX = re.compile(r"[0-9]{1,6}")
_TIMING = re.compile(r"^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})\s+-->\s+(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})(.*)$")


def is_text(codec: str | None) -> bool:
    """True when ``codec`` can be delivered as WebVTT."""
    return (codec or "") in TEXT_CODECS


def is_image(codec: str | None) -> bool:
    """True when ``codec`` is a picture format that can only be burned in."""
    return (codec or "") in IMAGE_CODECS


def convert_command(path: str, stream_index: int | None) -> list[str]:
    """The FFmpeg command that writes stream ``stream_index`` of ``path`` as WebVTT to stdout (None: a
    sidecar file's only subtitle stream)."""
    timing = ["-copyts", "-start_at_zero"] if stream_index is not None else ["-copyts"]
    stream = f"0:{stream_index}" if stream_index is not None else "0:s:0"
    return ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", *INPUT_OPTIONS, "-i", path, *timing,
            "-map", stream, "-c:s", "webvtt", "-f", "webvtt", "pipe:1"]  # fmt: skip


def convert(path: str, stream_index: int | None) -> str:
    """Stream ``stream_index`` of ``path`` (or a sidecar's only stream) as WebVTT text. Blocking: call
    it from a thread. :raises Unavailable: FFmpeg failed (``subtitle_conversion``)."""
    try:
        done = subprocess.run(convert_command(path, stream_index), capture_output=True, timeout=_CONVERT_TIMEOUT,
                              stdin=subprocess.DEVNULL, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise Unavailable("subtitle conversion took too long", code="subtitle_conversion") from exc
    text = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0 or not text.startswith("WEBVTT"):
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise Unavailable(f"subtitles could not be converted: {why[0][:200]}", code="subtitle_conversion")
    return text


@dataclass(frozen=True)
class Cue:
    """One WebVTT cue: times in seconds, the settings after the timing, and its text lines."""

    start: float
    end: float
    settings: str
    text: str


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def _stamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def parse(vtt: str) -> list[Cue]:
    """The cues of a WebVTT document (as FFmpeg writes it: header, blank line, then cue blocks)."""
    cues = []
    for block in re.split(r"\r?\n\r?\n", vtt.replace("\r\n", "\n")):
        lines = block.split("\n")
        for n, line in enumerate(lines):
            match = _TIMING.match(line.strip())
            if match:
                g = match.groups()
                text = "\n".join(lines[n + 1 :]).strip("\n")
                cues.append(Cue(_seconds(*g[0:4]), _seconds(*g[4:8]), g[8].strip(), text))
                break
    return cues


def document(cues: Sequence[Cue], header: str = "WEBVTT") -> str:
    """A WebVTT document with ``header`` and ``cues``."""
    parts = [header]
    for cue in cues:
        timing = f"{_stamp(cue.start)} --> {_stamp(cue.end)}" + (f" {cue.settings}" if cue.settings else "")
        parts.append(f"{timing}\n{cue.text}")
    return "\n\n".join(parts) + "\n"


def convert_parts(parts: Sequence[tuple[str | None, float]], stream_index: int | None) -> str:
    """Embedded stream ``stream_index`` of a film in parts (None: each part's sidecar, its only
    stream) as one WebVTT on the film's timeline.

    ``parts`` are each file and its length, in order, as the transcode's concat list joins them (a
    file of None: that part lacks the stream and only takes its time). Part ``k``'s cues are shifted
    by the lengths before it and clipped to its own end. Blocking: call it from a thread.
    :raises Unavailable: a part could not be converted (no partial document is made).
    """
    cues: list[Cue] = []
    offset = 0.0
    for path, length in parts:
        if path is not None:
            end = offset + length
            cues += [Cue(c.start + offset, min(c.end + offset, end), c.settings, c.text)
                     for c in parse(convert(path, stream_index)) if c.start + offset < end]  # fmt: skip
        offset += length
    return document(cues)


def segment(cues: Sequence[Cue], start: float, end: float) -> str:
    """Segment ``[start, end)`` of a subtitle playlist: every cue that shows during it (a cue across a
    boundary is in both segments), at absolute times, with the timestamp map of our video segments."""
    inside = [c for c in cues if c.start < end and c.end > start]
    header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{MPEGTS_AT_ZERO},LOCAL:00:00:00.000"
    return document(inside, header)


def check_index(value: str) -> int:
    """A stream index from a URL. :raises BadInput: not a small non-negative integer."""
    if not _INDEX.fullmatch(value):  # ASCII digits only: str.isdigit() also takes "٣"
        raise BadInput("the subtitle stream index must be a non-negative integer", code="bad_stream_index")
    return int(value)


def label(stream: Mapping[str, Any]) -> str:
    """How a menu or a playlist names a subtitle stream: language, title, "Forced"."""
    parts = [languages.display(stream.get("language")) or "Unknown"]
    if stream.get("title"):
        parts.append(str(stream["title"]))
    if stream.get("is_forced"):
        parts.append("Forced")
    return " · ".join(parts)


def _quoted(value: str) -> str:
    # A quoted-string of a playlist attribute may hold no double quote and no line break.
    return value.replace('"', "'").replace("\n", " ").replace("\r", " ")


def master_with_subtitles(master: str, renditions: Sequence[tuple[Mapping[str, Any], str]], selected: int | None,
                          group: str = "subs") -> str:  # fmt: skip
    """``master`` with one ``EXT-X-MEDIA:TYPE=SUBTITLES`` per ``(stream, uri)`` and ``SUBTITLES="group"``
    on every variant. ``selected`` (a stream index) is the rendition marked ``DEFAULT=YES``."""
    if not renditions:
        return master
    lines = master.rstrip("\n").split("\n")
    media = []
    names: set[str] = set()
    for stream, uri in renditions:
        name = label(stream)
        if name in names:  # NAME must be unique in its group
            name = f"{name} ({stream['stream_index']})"
        names.add(name)
        tag = languages.tag(stream.get("language"))
        default = "YES" if stream["stream_index"] == selected else "NO"
        attrs = [f'TYPE=SUBTITLES,GROUP-ID="{group}",NAME="{_quoted(name)}"']
        if tag:
            attrs.append(f'LANGUAGE="{tag}"')
        attrs += [f"DEFAULT={default}", f"AUTOSELECT={default}",
                  f"FORCED={'YES' if stream.get('is_forced') else 'NO'}", f'URI="{_quoted(uri)}"']  # fmt: skip
        media.append("#EXT-X-MEDIA:" + ",".join(attrs))
    out: list[str] = []
    for line in lines:
        if line.startswith("#EXT-X-STREAM-INF:"):
            out += media  # the renditions go before the first variant
            media = []
            line += f',SUBTITLES="{group}"'
        out.append(line)
    return "\n".join(out) + "\n"
