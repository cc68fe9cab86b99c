"""HLS playlist maths (DESIGN §5.3): segment boundaries, the variant ladder, playlists.

Pure functions; the api and the worker call them with the same inputs and so agree on every
segment's number and time span.

- **Transcoded video**: segment boundaries fall on multiples of ``S`` (segment seconds); a session
  opened at the film's start (``JobPayload.short_start``) begins with a short ramp:
  ``0, 0.5, 1, 2, 4, S, 2S, ...`` (the ramp doubles from :data:`FIRST_SEGMENT` while it stays below
  ``S``). A first segment of half a second is encoded in a fraction of the time a full one
  takes, so a new session's first frame comes sooner; the encoder, running faster than realtime,
  keeps ahead of the player through the ramp. The encoder forces keyframes on those times.
- **Copied video** (direct stream): a segment can only start on a source keyframe, so boundaries
  are the first keyframes at least ``S`` seconds after the previous boundary. The last segment is
  merged into the one before when it would be shorter than ``S/2``.

Segments are MPEG-TS (``.ts``): each one stands alone (no init segment that two encoder runs or two
workers would have to produce identically) and carries absolute timestamps, so segments made by
different encoder runs line up without rewriting them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from yaffw.media.decision import LADDER
from yaffw.queue import COPY, Audio, AudioTarget, JobPayload

SEGMENT_EXT = "ts"
ORIGINAL = "original"
# At most this many variants in a master playlist: each switch of variant can restart the encoder.
MAX_VARIANTS = 3
# A last segment shorter than this joins the one before it.
MIN_TAIL = 0.5
# Length of a transcoded stream's first segment; the next ones double until they reach S (issue 13).
FIRST_SEGMENT = 0.5
# hls.js (1.5 and later) without a startLevel starts where its bandwidth estimate points, and seeds
# that estimate with the first listed variant's BANDWIDTH capped at this (its abrEwmaDefaultEstimateMax):
# a first variant within the cap is the one it starts with (checked in tests/test_exact_playlists.py).
START_BANDWIDTH_MAX = 5_000_000
AAC_CODECS = "mp4a.40.2"
_AUDIO_CODECS = {"aac": "mp4a.40.2", "mp3": "mp4a.40.34", "ac3": "ac-3", "eac3": "ec-3"}
_H264_PROFILES = {"baseline": "42", "constrained baseline": "42", "main": "4d", "extended": "58",
                  "high": "64", "high 10": "6e", "high 4:2:2": "7a", "high 4:4:4 predictive": "f4"}  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """One rendition in the master playlist.

    ``name`` is the URL path part (``720p``, ``original``); ``bitrate`` the average video bitrate
    (0 for copied video: the source's); ``bandwidth`` the peak of video and audio together.
    """

    name: str
    width: int
    height: int
    bitrate: int
    bandwidth: int
    codecs: str
    copy: bool = False


def ramp(segment_seconds: float) -> list[float]:
    """The start times of a transcoded stream's short first segments: ``0, 0.5, 1, 2, 4`` for
    ``S`` = 6 (:data:`FIRST_SEGMENT`, doubling while below ``S``); ``S`` starts the next one."""
    out = [0.0]
    t = FIRST_SEGMENT
    while t < segment_seconds - 1e-6:
        out.append(t)
        t *= 2
    return out


_ramp = ramp  # fixed_boundaries' parameter of that name shadows the function


def fixed_boundaries(duration: float, segment_seconds: float, ramp: bool = False) -> list[float]:
    """Start times of the segments of a transcoded stream below ``duration``: ``0`` (with ``ramp``,
    the :func:`ramp`), then ``S, 2S, ...``.

    A last piece shorter than :data:`MIN_TAIL` joins the segment before it (a few milliseconds of
    tail make no segment of their own).
    """
    if duration <= 0:
        return [0.0]
    full = max(1, math.ceil(duration / segment_seconds - 1e-6))
    starts = [t for t in (_ramp(segment_seconds) if ramp else [0.0]) if t < duration - 1e-6]
    starts += [float(n * segment_seconds) for n in range(1, full)]
    if len(starts) > 1 and duration - starts[-1] < MIN_TAIL:
        starts.pop()
    return starts


def keyframe_boundaries(keyframes: Sequence[float], duration: float, segment_seconds: float) -> list[float]:
    """Start times of the segments of a copied stream: keyframes about ``S`` seconds apart.

    The first segment always starts at 0 (whatever the first keyframe's time), so the playlist's
    timeline starts where the player's does.
    """
    out = [0.0]
    for kf in sorted(keyframes):
        if kf - out[-1] >= segment_seconds - 0.05 and kf < duration - 0.05:
            out.append(float(kf))
    if len(out) > 1 and duration - out[-1] < segment_seconds / 2:
        out.pop()
    return out


def boundaries(duration: float, segment_seconds: float, keyframes: Sequence[float] | None,
               ramp: bool = False) -> list[float]:  # fmt: skip
    """Keyframe boundaries when ``keyframes`` are given (copied video), fixed ones otherwise (with
    the ramp of short first segments when ``ramp``: ``JobPayload.short_start``)."""
    if keyframes:
        return keyframe_boundaries(keyframes, duration, segment_seconds)
    return fixed_boundaries(duration, segment_seconds, ramp)


def durations(starts: Sequence[float], duration: float) -> list[float]:
    """Each segment's length, from the start times and the item's duration."""
    ends = [*starts[1:], max(duration, starts[-1])]
    return [end - start for start, end in zip(starts, ends, strict=True)]


def segment_at(starts: Sequence[float], seconds: float) -> int:
    """The number of the segment that contains ``seconds`` (clamped to the playlist)."""
    return max(0, bisect.bisect_right(starts, max(0.0, seconds)) - 1)


def job_start(starts: Sequence[float], seconds: float, segment_seconds: float) -> int:
    """The segment a session's first encoder run starts at, for a start position of ``seconds``: the
    segment holding it, except within the ramp (the first ``S`` seconds), where the run starts at 0.
    The whole ramp takes about as long to make as one full segment, and a run from 0 makes those
    segments as one continuous encode: a run started on a ramp boundary after a resume begins a frame
    or two late (the source's frame times, an overlay's first frame), which left hls.js without the
    fragment it started on (tests/test_tracks_browser.py, resuming at 2.02 s)."""
    n = segment_at(starts, seconds)
    return 0 if starts[n] < segment_seconds - 1e-6 else n


def media_playlist(starts: Sequence[float], duration: float, uri: Callable[[int], str]) -> str:
    """A complete VOD media playlist: every segment listed at once, so players can seek anywhere."""
    lengths = durations(starts, duration)
    target = max(1, math.ceil(max(lengths) - 1e-3))
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-PLAYLIST-TYPE:VOD"]  # fmt: skip
    for n, length in enumerate(lengths):
        lines += [f"#EXTINF:{length:.6f},", uri(n)]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def master_playlist(variants: Sequence[Variant], uri: Callable[[Variant], str]) -> str:
    """The master playlist: one ``EXT-X-STREAM-INF`` per variant, in the order given (see
    :func:`master_order`)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for v in variants:
        resolution = f",RESOLUTION={v.width}x{v.height}" if v.width and v.height else ""
        lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={v.bandwidth}{resolution},CODECS="{v.codecs}"', uri(v)]
    return "\n".join(lines) + "\n"


def start_variant(variants: Sequence[Variant]) -> Variant:
    """The variant players start with, and so the one encoded at session open (pre-warm): the best
    one within :data:`START_BANDWIDTH_MAX`, else the lowest."""
    fitting = [v for v in variants if v.bandwidth <= START_BANDWIDTH_MAX]
    if fitting:
        return max(fitting, key=lambda v: v.bandwidth)
    return min(variants, key=lambda v: v.bandwidth)


def master_order(variants: Sequence[Variant]) -> list[Variant]:
    """The variants as a master playlist lists them: :func:`start_variant` first (players start with
    the first one listed), then the others best first."""
    first = start_variant(variants)
    return [first, *(v for v in variants if v is not first)]


def even(x: float) -> int:
    """Nearest even integer ≥ 2 (encoders want even dimensions)."""
    return max(2, round(x / 2) * 2)


def h264_codecs(height: int) -> str:
    """CODECS of our H.264 High output; the level is the one its resolution needs."""
    level = "1e" if height <= 480 else "1f" if height <= 720 else "28" if height <= 1080 else "33"
    return f"avc1.6400{level}"


def source_video_codecs(video: dict[str, Any]) -> str:
    """CODECS of a copied source video stream (best effort from ffprobe's profile/level)."""
    codec = (video.get("codec") or "").lower()
    level = video.get("level") or 0
    profile = (video.get("profile") or "").lower()
    if codec == "h264":
        return f"avc1.{_H264_PROFILES.get(profile, '64')}00{int(level or 40):02x}"
    if codec in ("hevc", "h265"):
        return f"hvc1.{2 if '10' in profile else 1}.4.L{int(level or 120)}.B0"
    if codec == "av1":
        return "av01.0.08M.08"
    return codec or "avc1.640028"


def audio_codecs(job_audio: Audio, source_codec: str | None) -> str | None:
    """CODECS of the audio in the segments: AAC when transcoded, the source's when copied."""
    if job_audio is None:
        return None
    if isinstance(job_audio, AudioTarget):
        return _AUDIO_CODECS.get(output_audio_codec(job_audio.codec), AAC_CODECS)
    return _AUDIO_CODECS.get((source_codec or "").lower(), AAC_CODECS)


def output_audio_codec(requested: str | None) -> str:
    """The audio codec we encode into MPEG-TS for a requested one (Opus in TS is poorly supported)."""
    return "mp3" if requested == "mp3" else "aac"


def audio_bitrate(job_audio: Audio, source_bitrate: int | None) -> int:
    """Audio bits per second in the segments (for BANDWIDTH)."""
    if isinstance(job_audio, AudioTarget):
        return int(job_audio.bitrate or 128_000)
    if job_audio == COPY:
        return int(source_bitrate or 192_000)
    return 0


def ladder(job: JobPayload, video: dict[str, Any] | None, audio: dict[str, Any] | None, *,
           source_bitrate: int | None = None, max_height: int | None = None) -> list[Variant]:  # fmt: skip
    """The variants of a session, best first.

    ``job`` is the session's job, ``video``/``audio`` the source's streams (rows of
    ``media_streams``), ``source_bitrate`` the file's overall bitrate. Copied video gives one
    variant, ``original``. Transcoded video gives the job's height and bitrate, then lower rungs of
    the ladder, never above the source's height or ``max_height``, at most :data:`MAX_VARIANTS`.
    """
    job_video, job_audio = job.video, job.audio
    a_rate = audio_bitrate(job_audio, (audio or {}).get("bitrate"))
    a_codecs = audio_codecs(job_audio, (audio or {}).get("codec"))
    src_w, src_h = (video or {}).get("width") or 0, (video or {}).get("height") or 0
    if job_video is None or video is None:
        return [Variant(ORIGINAL, 0, 0, 0, max(a_rate, 64_000), a_codecs or AAC_CODECS, copy=True)]
    if job_video == COPY:
        rate = int(source_bitrate or video.get("bitrate") or 8_000_000)
        codecs = ",".join(c for c in (source_video_codecs(video), a_codecs) if c)
        return [Variant(ORIGINAL, src_w, src_h, 0, rate + a_rate, codecs, copy=True)]
    top_h = min(int(job_video.height or src_h or 720), src_h or 10**6, max_height or 10**6)
    top_rate = int(job_video.bitrate or dict(LADDER).get(top_h, 4_000_000))
    rungs = [(even(top_h), top_rate)]
    rungs += [(h, min(r, top_rate)) for h, r in LADDER if h < top_h - 8]
    out = []
    for height, rate in rungs[:MAX_VARIANTS]:
        width = even(height * src_w / src_h) if src_w and src_h else even(height * 16 / 9)
        peak = int(rate * 1.5) + a_rate
        codecs = ",".join(c for c in (h264_codecs(height), a_codecs) if c)
        out.append(Variant(f"{height}p", width, height, rate, peak, codecs))
    return out


def find_variant(variants: Sequence[Variant], name: str) -> Variant | None:
    """The variant called ``name``, or None."""
    return next((v for v in variants if v.name == name), None)
