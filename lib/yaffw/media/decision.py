"""Choose how a client plays an item (DESIGN §5): direct play, direct stream or transcode.

Pure: it reads the item's database rows (``media_items`` and ``media_streams`` as dicts) and the
client's :class:`~yaffw.media.capabilities.Capabilities`; it does no I/O.

- **direct_play**: the client opens the file itself. Container, video (codec, profile, level,
  height), the chosen audio track (codec, channels) and the overall bitrate all fit, and the chosen
  track is the one a player picks by default (players cannot switch tracks of a plain file).
- **direct_stream**: the video fits but something else does not (container, audio, a non-default
  track): HLS with the video copied and the audio copied or transcoded.
- **transcode**: the video does not fit (codec, profile, level, height, bitrate): HLS with H.264 at a
  height and bitrate within the client's limits; the audio is copied when it fits.

An image subtitle chosen for the session (PGS, VobSub, DVB) can reach a player only burned into
the picture: it forces a transcode, whose job carries ``burn_subtitle``. Text subtitles never do
(they are delivered beside the video as WebVTT).

A client without HLS gets direct play or nothing (:class:`~yaffw.errors.BadInput`, code
``not_playable``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, TypeVar

from yaffw.errors import BadInput
from yaffw.media.capabilities import Capabilities, canonical
from yaffw.media.tracks import IMAGE_SUBTITLES, MAX_AAC_CHANNELS, aac_channels
from yaffw.queue import JobPayload, audio_target, video_target

# Transcode ladder: (height, video bitrate). The highest rung within the client's limits is used.
LADDER = ((2160, 20_000_000), (1440, 12_000_000), (1080, 8_000_000), (720, 4_000_000),
          (480, 2_000_000), (360, 1_000_000), (240, 500_000))  # fmt: skip
AUDIO_BITRATE_PER_CHANNEL = 64_000
MIN_VIDEO_BITRATE = 200_000
# Audio codecs we may produce, best first; AAC is what every HLS client plays.
_AUDIO_TARGETS = ("aac", "opus", "mp3")
# Cover art is stored as a video stream; it is never the film.
_PICTURE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp"})
_METHOD_RANK = {"direct_play": 0, "direct_stream": 1, "transcode": 2}
R = TypeVar("R")


@dataclass(frozen=True)
class Decision:
    """The outcome: how to play, why, and (for HLS) what to copy or encode."""

    method: str  # direct_play | direct_stream | transcode
    reason: str
    audio_index: int | None
    video: dict[str, Any] | str | None  # "copy", {codec, height, bitrate}, or None for direct play
    audio: dict[str, Any] | str | None  # "copy", {codec, channels, bitrate, stream_index}, or None
    burn_subtitle: int | None = None  # an image subtitle's stream index, burned into the transcode

    @property
    def is_hls(self) -> bool:
        """True for direct stream and transcode."""
        return self.method != "direct_play"

    def job(self, *, sid: str, item: dict[str, Any], segment_seconds: int, hwaccel: str,
            created_at: float, short_start: bool = False) -> JobPayload | None:  # fmt: skip
        """The session's job template (DESIGN §3), typed from here to FFmpeg (None for direct play).

        ``audio_index`` is repeated at the top level so a worker can map the chosen track even when
        ``audio`` is ``"copy"``; ``burn_subtitle`` is there only when a subtitle is burned in.

        :raises BadInput: when the decision's targets are not a job's.
        """
        if not self.is_hls:
            return None
        return JobPayload(
            sid=sid, item_id=str(item["id"]), source_path=item["path"], start_segment=0,
            segment_seconds=segment_seconds, video=video_target(self.video), audio=audio_target(self.audio),
            audio_index=self.audio_index, hwaccel=hwaccel, created_at=created_at, burn_subtitle=self.burn_subtitle,
            short_start=short_start,
        )  # fmt: skip


def container_of(item: dict[str, Any]) -> str:
    """Short container name (``mp4``, ``mkv``, ``webm``...) from ffprobe's format name and the path.

    ffprobe names families (``mov,mp4,m4a,3gp,3g2,mj2``, ``matroska,webm``); the extension picks
    the member.
    """
    raw = (item.get("container") or "").lower()
    ext = PurePosixPath(item.get("path") or "").suffix.lower().lstrip(".")
    family = {canonical(p) for p in raw.split(",") if p}
    if ext and (canonical(ext) in family or not family):
        return canonical(ext)
    if "mp4" in family or "mov" in family:
        return "mp4"
    if "mkv" in family:
        return "mkv"
    return canonical(next(iter(sorted(family)), ext or "unknown"))


def _video_stream(streams: list[dict[str, Any]]) -> dict[str, Any] | None:
    videos = [s for s in streams if s.get("type") == "video" and (s.get("codec") or "") not in _PICTURE_CODECS]
    return min(videos, key=lambda s: s["stream_index"]) if videos else None


def _audio_streams(streams: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((s for s in streams if s.get("type") == "audio"), key=lambda s: s["stream_index"])


def default_audio(streams: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The track a player picks by itself: the one flagged default, else the first."""
    audios = _audio_streams(streams)
    flagged = [s for s in audios if s.get("is_default")]
    chosen = flagged or audios
    return chosen[0] if chosen else None


def is_image_subtitle(stream: dict[str, Any]) -> bool:
    """True for a subtitle stream made of pictures (PGS, VobSub, DVB), which must be burned in."""
    return stream.get("type") == "subtitle" and (stream.get("codec") or "") in IMAGE_SUBTITLES


def _burned(streams: list[dict[str, Any]], subtitle_index: int | None) -> dict[str, Any] | None:
    """The image subtitle to burn in for ``subtitle_index`` (None for none or a text subtitle).

    :raises BadInput: ``bad_subtitle_index`` for an index that is no subtitle stream of the item.
    """
    if subtitle_index is None:
        return None
    stream = next((s for s in streams if s["stream_index"] == subtitle_index), None)
    if stream is None or stream.get("type") != "subtitle":
        raise BadInput(f"stream {subtitle_index} is not a subtitle track of this item", code="bad_subtitle_index")
    return stream if is_image_subtitle(stream) else None


def _video_problems(video: dict[str, Any], caps: Capabilities, max_bitrate: int | None,
                    item_bitrate: int | None) -> list[str]:  # fmt: skip
    codec = canonical(video.get("codec") or "unknown")
    if not caps.video_codec_ok(codec):
        return [f"video codec {codec} not supported"]
    problems = []
    if not caps.profile_ok(codec, video.get("profile")):
        problems.append(f"video profile {codec} {video.get('profile')} not supported")
    if not caps.level_ok(codec, video.get("level")):
        problems.append(f"video level {video.get('level')} above {caps.max_video_level[codec]}")
    height = video.get("height")
    if caps.max_height and height and height > caps.max_height:
        problems.append(f"video height {height} above {caps.max_height}")
    if max_bitrate and item_bitrate and item_bitrate > max_bitrate:
        problems.append(f"bitrate {item_bitrate} above {max_bitrate}")
    return problems


def _audio_problems(audio: dict[str, Any], caps: Capabilities) -> list[str]:
    codec = canonical(audio.get("codec") or "unknown")
    if not caps.audio_codec_ok(codec):
        return [f"audio codec {codec} not supported"]
    channels = audio.get("channels")
    if caps.max_audio_channels and channels and channels > caps.max_audio_channels:
        return [f"audio channels {channels} above {caps.max_audio_channels}"]
    return []


def _audio_target(audio: dict[str, Any], caps: Capabilities) -> dict[str, Any]:
    codec = next((c for c in _AUDIO_TARGETS if caps.audio_codecs is None or c in caps.audio_codecs), "aac")
    # Surround stays surround (AAC carries up to 7.1): fewer channels only when the client asks.
    wanted = min(int(audio.get("channels") or 2), caps.max_audio_channels or MAX_AAC_CHANNELS)
    channels = 2 if codec == "mp3" else aac_channels(wanted)
    return {"codec": codec, "channels": channels, "bitrate": channels * AUDIO_BITRATE_PER_CHANNEL,
            "stream_index": audio["stream_index"]}  # fmt: skip


def _video_target(video: dict[str, Any], caps: Capabilities, max_bitrate: int | None,
                  audio_bitrate: int) -> dict[str, Any]:  # fmt: skip
    source_height = video.get("height") or 720
    # Never scale up: the top choice is the source (or the client's limit) at its rung's bitrate.
    top = min(source_height, caps.max_height or source_height)
    above = [rate for height, rate in LADDER if height >= top]
    rungs = [(top, above[-1] if above else LADDER[0][1])] + [(h, r) for h, r in LADDER if h < top]
    budget = max_bitrate - audio_bitrate if max_bitrate else None
    height, rate = next(((h, r) for h, r in rungs if budget is None or r <= budget), rungs[-1])
    if budget is not None:
        rate = max(MIN_VIDEO_BITRATE, min(rate, budget))
    return {"codec": "h264", "height": height - height % 2, "bitrate": rate}


def decide(item: dict[str, Any], streams: list[dict[str, Any]], caps: Capabilities, *,
           audio_index: int | None = None, max_bitrate: int | None = None,
           subtitle_index: int | None = None) -> Decision:  # fmt: skip
    """How ``caps`` should play ``item``.

    ``audio_index`` picks an audio track (default: the file's default track); ``max_bitrate`` is a
    per-request limit on top of the client's; ``subtitle_index`` the subtitle shown (an image one is
    burned in, which forces a transcode).

    :raises BadInput: ``bad_audio_index`` for a track that is not an audio stream of the item;
        ``bad_subtitle_index`` for one that is not a subtitle stream of it;
        ``not_playable`` when the item has no video or audio at all, or needs HLS and the client
        has none.
    """
    given = [x for x in (max_bitrate, caps.max_bitrate) if x]
    limit = min(given) if given else None
    video = _video_stream(streams)
    audios = _audio_streams(streams)
    if audio_index is None:
        audio = default_audio(streams)
    else:
        audio = next((s for s in audios if s["stream_index"] == audio_index), None)
        if audio is None:
            raise BadInput(f"stream {audio_index} is not an audio track of this item", code="bad_audio_index")
    if video is None and audio is None:
        raise BadInput("item has no playable streams", code="not_playable")

    container = container_of(item)
    video_problems = _video_problems(video, caps, limit, item.get("bitrate")) if video else []
    parts = int(item.get("part_count") or 1)
    burn = _burned(streams, subtitle_index) if video else None
    if burn is not None:
        video_problems.append(f"subtitle {burn['stream_index']} ({burn.get('codec')}) is burned in")
    if parts > 1:
        # A film in parts is no one file a player could open, and copied video would need keyframes
        # across the joined parts: the transcode reads the parts as one input (concat) and encodes.
        video_problems.append(f"film in {parts} parts plays as one stream")
    audio_problems = _audio_problems(audio, caps) if audio else []
    other = []
    if not caps.container_ok(container):
        other.append(f"container {container} not supported")
    if audio is not None and audio is not default_audio(streams):
        other.append(f"audio track {audio['stream_index']} is not the file's default")
    chosen = audio["stream_index"] if audio else None

    if not (video_problems or audio_problems or other):
        return Decision("direct_play", "file plays as is", chosen, None, None)
    reason = "; ".join(video_problems + other + audio_problems)
    if not caps.hls:
        raise BadInput(f"client cannot play this item without HLS: {reason}", code="not_playable")
    audio_out: dict[str, Any] | str | None = None
    if audio is not None:
        audio_out = _audio_target(audio, caps) if audio_problems else "copy"
    if video is None or not video_problems:
        return Decision("direct_stream", reason, chosen, "copy" if video else None, audio_out)
    audio_bitrate = 0
    if isinstance(audio_out, dict):
        audio_bitrate = audio_out["bitrate"]
    elif audio is not None:
        audio_bitrate = audio.get("bitrate") or AUDIO_BITRATE_PER_CHANNEL * (audio.get("channels") or 2)
    return Decision("transcode", reason, chosen, _video_target(video, caps, limit, audio_bitrate), audio_out,
                    burn["stream_index"] if burn else None)  # fmt: skip


def _quality(streams: list[dict[str, Any]], item: dict[str, Any]) -> tuple[int, int]:
    video = _video_stream(streams)
    return (int((video or {}).get("height") or 0), int(item.get("bitrate") or 0))


def pick_source(
    sources: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]],
    attempt: Callable[[dict[str, Any], list[dict[str, Any]]], R],
    decision_of: Callable[[R], Decision],
    requested: str | None = None,
) -> tuple[int, R]:
    """Which version of a film to play (issue 16): the index into ``sources`` (each a version's
    ``media_items`` row and its streams, the film's own file first) and ``attempt``'s result for it.

    ``attempt`` decides for one version (:func:`decide`, or a Jellyfin profile's choice) and may
    raise :class:`~yaffw.errors.BadInput`. With ``requested`` (a version's id) that version is
    played; else the best one for the client: the best version that plays directly, else the best
    whose video is copied, else the one cheapest to transcode (the smallest picture).

    :raises BadInput: ``bad_source`` for a ``requested`` id that is no version of the film; the
        first version's error when none plays.
    """
    if requested is not None:
        index = next((n for n, (row, _) in enumerate(sources) if str(row["id"]) == requested), None)
        if index is None:
            raise BadInput(f"{requested} is not a version of this film", code="bad_source")
        row, streams = sources[index]
        return index, attempt(row, streams)
    scored: list[tuple[tuple[int, int, int], int, R]] = []
    first_error: BadInput | None = None
    for index, (row, streams) in enumerate(sources):
        try:
            result = attempt(row, streams)
        except BadInput as exc:
            first_error = first_error or exc
            continue
        method = decision_of(result).method
        height, bitrate = _quality(streams, row)
        # Played as is or copied: the best picture wins. Transcoded: the least work wins.
        score = (-height, -bitrate) if method != "transcode" else (height, bitrate)
        scored.append(((_METHOD_RANK[method], *score), index, result))
    if not scored:
        assert first_error is not None
        raise first_error
    _, index, result = min(scored, key=lambda s: (s[0], s[1]))
    return index, result
