"""A Jellyfin ``DeviceProfile`` as yaffw's playback capabilities (DESIGN §5, §10). Pure functions.

Jellyfin describes a client by combinations (``DirectPlayProfiles``: this container with these
codecs; ``TranscodingProfiles``: what it accepts when the server converts; ``CodecProfiles``:
conditions on a codec's profile, level, size...). yaffw's :class:`Capabilities` is flat, so the
profile is read *for one item*, in two readings, and yaffw's own :func:`yaffw.media.decision.decide`
runs on them:

1. **direct**: the direct-play profiles that accept the item's container (their codecs, with the
   codec profiles' conditions). If ``decide`` says direct play with these, the client plays the file
   (``/Videos/{id}/stream``).
2. **hls**: the first HLS transcoding profile (its codecs may be copied into the segments, the
   codec profiles' conditions still apply) and no container at all, so ``decide`` answers direct
   stream (video copied) or transcode.

Conditions that map onto :class:`Capabilities` become limits (``VideoProfile`` → allowed profiles,
``VideoLevel`` → maximum level, ``Height``/``Width`` → maximum height, which also caps the
transcode, ``AudioChannels`` → maximum channels). Any other condition is evaluated on the item's
stream as Jellyfin does (an unknown value passes unless ``IsRequired``); a failed one removes that
codec for this item. Combinations are approximated: the codecs of every direct-play profile for the
container are allowed together.

No profile at all (a bare ``GET /Items/{id}/PlaybackInfo``) means, as in Jellyfin, that nothing is
restricted: the file is played directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yaffw.errors import BadInput
from yaffw.media.capabilities import Capabilities, canonical
from yaffw.media.decision import Decision, container_of, decide, default_audio

# Jellyfin's container names beside FFmpeg's (canonical() already maps matroska → mkv, m4v → mp4).
_CONTAINER_ALIASES = {"mpegts": "ts", "m2ts": "ts", "mts": "ts", "mpeg": "mpg", "m3u8": "hls"}
_CODEC_ALIASES = {"dca": "dts", "mpeg2": "mpeg2video", "h263": "h263", "msmpeg4": "msmpeg4v3"}
_PICTURE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp"})
# yaffw's HLS segments are MPEG-TS; the codec profiles Jellyfin clients write for HLS name "ts".
HLS_CONTAINER = "ts"
_MAX_ITEMS = 256
# What a client without a profile gets when it refuses direct play: the HLS every player takes.
DEFAULT_HLS: Mapping[str, Any] = {"TranscodingProfiles": [
    {"Type": "Video", "Protocol": "hls", "Container": "ts", "VideoCodec": "h264", "AudioCodec": "aac"}]}  # fmt: skip


@dataclass(frozen=True)
class Request:
    """What a ``PlaybackInfo`` call asks for besides the profile (``PlaybackInfoDto`` / query)."""

    max_bitrate: int | None = None
    max_audio_channels: int | None = None
    audio_index: int | None = None
    subtitle_index: int | None = None  # an image subtitle is burned in (transcode)
    enable_direct_play: bool = True
    enable_transcoding: bool = True
    allow_video_copy: bool = True
    allow_audio_copy: bool = True


def split(value: Any) -> list[str]:
    """A Jellyfin comma list (``"mp4,m4v"``) as lower-case names; empty means "any"."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise BadInput("DeviceProfile: containers and codecs must be comma-separated strings")
    return [x.strip().lower() for x in value.split(",") if x.strip()]


def container_name(name: str) -> str:
    """A container name as yaffw compares them."""
    lowered = canonical(name)
    return _CONTAINER_ALIASES.get(lowered, lowered)


def codec_name(name: str) -> str:
    """A codec name as yaffw compares them (FFmpeg's)."""
    lowered = canonical(name)
    return _CODEC_ALIASES.get(lowered, lowered)


def _list(profile: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = profile.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > _MAX_ITEMS or not all(isinstance(x, Mapping) for x in value):
        raise BadInput(f"DeviceProfile.{name} must be a list of objects")
    return value


def _positive(value: Any, name: str) -> int | None:
    """A positive integer from JSON or a numeric string (``TranscodingProfile.MaxAudioChannels``)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput(f"{name} must be a positive integer")
    return value or None


def _is_video(entry: Mapping[str, Any]) -> bool:
    kind = entry.get("Type")
    return kind is None or (isinstance(kind, str) and kind.lower() == "video")


def check(profile: Any) -> Mapping[str, Any] | None:
    """The profile if it is an object (or ``None``). :raises BadInput: for a wrong shape."""
    if profile is None:
        return None
    if not isinstance(profile, Mapping):
        raise BadInput("DeviceProfile must be an object")
    for name in ("DirectPlayProfiles", "TranscodingProfiles", "CodecProfiles", "ContainerProfiles"):
        _list(profile, name)
    for name in ("MaxStreamingBitrate", "MaxStaticBitrate"):
        _positive(profile.get(name), f"DeviceProfile.{name}")
    return profile


# --- the item's facts, as Jellyfin's conditions name them ---------------------------------------


def _video(streams: list[dict[str, Any]]) -> dict[str, Any] | None:
    videos = [s for s in streams if s.get("type") == "video" and (s.get("codec") or "") not in _PICTURE_CODECS]
    return min(videos, key=lambda s: s["stream_index"]) if videos else None


def _audio(streams: list[dict[str, Any]], audio_index: int | None) -> dict[str, Any] | None:
    if audio_index is None:
        return default_audio(streams)
    return next((s for s in streams if s.get("type") == "audio" and s["stream_index"] == audio_index), None)


def _facts(item: Mapping[str, Any], streams: list[dict[str, Any]], video: dict[str, Any] | None,
           audio: dict[str, Any] | None) -> dict[str, Any]:  # fmt: skip
    """Values of the ``ProfileConditionValue`` properties yaffw knows (``None``: unknown)."""
    v, a = video or {}, audio or {}
    depth = v.get("bit_depth")
    if depth is None and v.get("pixel_format"):
        depth = 10 if "10" in v["pixel_format"] else 12 if "12" in v["pixel_format"] else 8
    width, height = v.get("width"), v.get("height")
    return {
        "width": width, "height": height, "videobitdepth": depth,
        "videobitrate": v.get("bitrate") or item.get("bitrate"),
        "videoframerate": v.get("frame_rate"), "videolevel": v.get("level"), "videoprofile": v.get("profile"),
        "videorangetype": "SDR" if video else None,  # HDR metadata is not scanned: assume SDR
        "isanamorphic": False if width and height else None, "isinterlaced": None, "refframes": None,
        "videocodectag": None, "isavc": (v.get("codec") == "h264") if video else None,
        "numvideostreams": sum(1 for s in streams if s.get("type") == "video"),
        "numaudiostreams": sum(1 for s in streams if s.get("type") == "audio"),
        "numstreams": len(streams),
        "audiochannels": a.get("channels"), "audiobitrate": a.get("bitrate"), "audiosamplerate": a.get("sample_rate"),
        "audioprofile": a.get("profile"), "audiobitdepth": None,
        "issecondaryaudio": (audio is not default_audio(streams)) if audio else None,
    }  # fmt: skip


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def condition_ok(condition: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
    """Evaluate one ``ProfileCondition`` on the item as Jellyfin's condition processor does: an
    unknown value passes unless the condition ``IsRequired``."""
    kind = str(condition.get("Condition") or "").lower()
    prop = str(condition.get("Property") or "").lower()
    expected = condition.get("Value")
    expected = "" if expected is None else str(expected)
    actual = facts.get(prop)
    if actual is None:
        return condition.get("IsRequired") is not True
    if isinstance(actual, bool):
        want = expected.strip().lower() == "true"
        return actual == want if kind == "equals" else actual != want if kind == "notequals" else True
    if kind == "equalsany":
        return str(actual).lower() in {x.strip().lower() for x in expected.split("|")}
    a, e = _number(actual), _number(expected)
    if kind in ("lessthanequal", "greaterthanequal"):
        if a is None or e is None:
            return True  # a non-numeric comparison Jellyfin would not apply either
        return a <= e if kind == "lessthanequal" else a >= e
    same = a == e if a is not None and e is not None else str(actual).lower() == expected.lower()
    if kind == "equals":
        return same
    if kind == "notequals":
        return not same
    return True  # unknown condition types are ignored, as Jellyfin ignores unknown enums


def _conditions(entry: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = entry.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, Mapping) for x in value):
        raise BadInput(f"CodecProfile.{name} must be a list of conditions")
    return value


# --- the readings ---------------------------------------------------------------------------------


@dataclass
class _Limits:
    """Capabilities under construction."""

    video_codecs: set[str]
    audio_codecs: set[str]
    video_profiles: dict[str, frozenset[str]]
    max_video_level: dict[str, int]
    max_height: int | None = None
    max_audio_channels: int | None = None

    def cap_height(self, value: int | None) -> None:
        if value and value > 0:
            self.max_height = min(self.max_height or value, value)

    def cap_channels(self, value: int | None) -> None:
        if value and value > 0:
            self.max_audio_channels = min(self.max_audio_channels or value, value)


def _applies(entry: Mapping[str, Any], codec: str, container: str, facts: Mapping[str, Any]) -> bool:
    codecs = [codec_name(c) for c in split(entry.get("Codec"))]
    containers = [container_name(c) for c in split(entry.get("Container"))]
    if codecs and codec not in codecs:
        return False
    if containers and container not in containers:
        return False
    return all(condition_ok(c, facts) for c in _conditions(entry, "ApplyConditions"))


def _apply_video(limits: _Limits, conditions: list[Mapping[str, Any]], codec: str, facts: Mapping[str, Any],
                 source: bool) -> None:  # fmt: skip
    """Fold a video codec profile's conditions into ``limits`` (``source``: the item's own codec,
    else the transcode target, for which only size limits matter)."""
    width, height = facts.get("width"), facts.get("height")
    for cond in conditions:
        kind = str(cond.get("Condition") or "").lower()
        prop = str(cond.get("Property") or "").lower()
        value = _number(cond.get("Value"))
        if prop == "height" and kind == "lessthanequal" and value:
            limits.cap_height(int(value))
        elif prop == "width" and kind == "lessthanequal" and value:
            # Capabilities limit heights; for this item a width limit is the height at its aspect.
            limits.cap_height(int(value * height / width) if width and height else int(value * 9 / 16))
        elif not source:
            continue
        elif prop == "videoprofile" and kind in ("equalsany", "equals"):
            allowed = frozenset(x.strip().lower() for x in str(cond.get("Value") or "").split("|") if x.strip())
            previous = limits.video_profiles.get(codec)
            limits.video_profiles[codec] = allowed if previous is None else previous & allowed
        elif prop == "videolevel" and kind == "lessthanequal" and value:
            limits.max_video_level[codec] = min(limits.max_video_level.get(codec, int(value)), int(value))
        elif not condition_ok(cond, facts):
            limits.video_codecs.discard(codec)


def _apply_audio(limits: _Limits, conditions: list[Mapping[str, Any]], codec: str, facts: Mapping[str, Any]) -> None:
    for cond in conditions:
        kind = str(cond.get("Condition") or "").lower()
        prop = str(cond.get("Property") or "").lower()
        value = _number(cond.get("Value"))
        if prop == "audiochannels" and kind == "lessthanequal" and value:
            limits.cap_channels(int(value))
        elif not condition_ok(cond, facts):
            limits.audio_codecs.discard(codec)


def _codec_profiles(profile: Mapping[str, Any], limits: _Limits, container: str, facts: Mapping[str, Any],
                    video_codec: str | None, audio_codec: str | None, target: str | None) -> None:  # fmt: skip
    for entry in _list(profile, "CodecProfiles"):
        kind = str(entry.get("Type") or "").lower()
        conditions = _conditions(entry, "Conditions")
        if kind == "video":
            if video_codec and _applies(entry, video_codec, container, facts):
                _apply_video(limits, conditions, video_codec, facts, source=True)
            if target and target != video_codec and _applies(entry, target, container, facts):
                _apply_video(limits, conditions, target, facts, source=False)
        elif kind in ("videoaudio", "audio") and audio_codec and _applies(entry, audio_codec, container, facts):
            _apply_audio(limits, conditions, audio_codec, facts)


def _caps(limits: _Limits, video: dict[str, Any] | None, container: str | None, max_bitrate: int | None,
          max_audio_channels: int | None, hls: bool) -> Capabilities:  # fmt: skip
    limits.cap_channels(max_audio_channels)
    codec, profile = codec_name((video or {}).get("codec") or ""), ((video or {}).get("profile") or "").lower()
    if codec and profile and codec not in limits.video_profiles:
        # No VideoProfile condition: any profile of the codec (Capabilities would assume the safest).
        limits.video_profiles[codec] = frozenset({profile})
    return Capabilities(
        containers=frozenset({container}) if container else frozenset(),
        video_codecs=frozenset(limits.video_codecs), audio_codecs=frozenset(limits.audio_codecs),
        video_profiles=dict(limits.video_profiles), max_video_level=dict(limits.max_video_level),
        max_height=limits.max_height, max_bitrate=max_bitrate, max_audio_channels=limits.max_audio_channels, hls=hls,
    )  # fmt: skip


def _bitrate(*values: int | None) -> int | None:
    present = [v for v in values if v]
    return min(present) if present else None


def _takes(entry: Mapping[str, Any], container: str) -> bool:
    names = split(entry.get("Container"))
    return not names or container in {container_name(c) for c in names}


def direct_capabilities(profile: Mapping[str, Any], item: Mapping[str, Any], streams: list[dict[str, Any]],
                        req: Request = Request()) -> Capabilities | None:  # fmt: skip
    """What the profile direct-plays *for this item*, or ``None`` when no direct-play profile takes
    its container. The container is the item's own when accepted, so ``decide`` only weighs codecs
    and limits."""
    container = container_of(dict(item))
    video, audio = _video(streams), _audio(streams, req.audio_index)
    v_codec = codec_name(video["codec"]) if video and video.get("codec") else None
    matching = [p for p in _list(profile, "DirectPlayProfiles") if _is_video(p) and _takes(p, container)]
    if not matching:
        return None
    item_audio = {codec_name(s["codec"]) for s in streams if s.get("type") == "audio" and s.get("codec")}
    video_codecs: set[str] = set()
    for p in matching:
        names = {codec_name(c) for c in split(p.get("VideoCodec"))}
        video_codecs |= names or ({v_codec} if v_codec else set())
    # Audio of the profiles that take the item's video (Jellyfin matches a whole combination).
    takes_video = [p for p in matching if not split(p.get("VideoCodec"))
                   or (v_codec and v_codec in {codec_name(c) for c in split(p.get("VideoCodec"))})]  # fmt: skip
    audio_codecs: set[str] = set()
    for p in takes_video or matching:
        audio_codecs |= {codec_name(c) for c in split(p.get("AudioCodec"))} or item_audio
    limits = _Limits(video_codecs, audio_codecs, {}, {})
    facts = _facts(item, streams, video, audio)
    a_codec = codec_name(audio["codec"]) if audio and audio.get("codec") else None
    _codec_profiles(profile, limits, container, facts, v_codec, a_codec, None)
    static = _positive(profile.get("MaxStaticBitrate"), "DeviceProfile.MaxStaticBitrate")
    streaming = _positive(profile.get("MaxStreamingBitrate"), "DeviceProfile.MaxStreamingBitrate")
    return _caps(limits, video, container, _bitrate(req.max_bitrate, streaming, static), req.max_audio_channels, True)


def hls_profile(profile: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first video transcoding profile over HLS (``Protocol: hls``, or the legacy ``m3u8`` container)."""
    for entry in _list(profile, "TranscodingProfiles"):
        protocol = str(entry.get("Protocol") or "").lower()
        if _is_video(entry) and (protocol == "hls" or "m3u8" in split(entry.get("Container"))):
            return entry
    return None


def hls_capabilities(profile: Mapping[str, Any], item: Mapping[str, Any], streams: list[dict[str, Any]],
                     req: Request = Request()) -> Capabilities | None:  # fmt: skip
    """What the client takes over HLS *for this item* (what may be copied, size and channel limits),
    or ``None`` when it has no HLS transcoding profile."""
    entry = hls_profile(profile)
    if entry is None:
        return None
    video, audio = _video(streams), _audio(streams, req.audio_index)
    v_codec = codec_name(video["codec"]) if video and video.get("codec") else None
    a_codec = codec_name(audio["codec"]) if audio and audio.get("codec") else None
    video_codecs = {codec_name(c) for c in split(entry.get("VideoCodec"))} or {"h264"}
    audio_codecs = {codec_name(c) for c in split(entry.get("AudioCodec"))} or {"aac"}
    if not req.allow_video_copy:
        video_codecs = set()  # nothing is copied: decide() transcodes the video
    if not req.allow_audio_copy and a_codec:
        audio_codecs.discard(a_codec)
    limits = _Limits(video_codecs, audio_codecs, {}, {})
    limits.cap_channels(_positive(entry.get("MaxAudioChannels"), "TranscodingProfile.MaxAudioChannels"))
    facts = _facts(item, streams, video, audio)
    _codec_profiles(profile, limits, HLS_CONTAINER, facts, v_codec, a_codec, "h264")
    streaming = _positive(profile.get("MaxStreamingBitrate"), "DeviceProfile.MaxStreamingBitrate")
    return _caps(limits, video, None, _bitrate(req.max_bitrate, streaming), req.max_audio_channels, True)


def unrestricted(item: Mapping[str, Any], streams: list[dict[str, Any]], req: Request = Request()) -> Capabilities:
    """Capabilities that take this item as it is (no profile: Jellyfin restricts nothing)."""
    codecs = {codec_name(s["codec"]) for s in streams if s.get("codec")}
    limits = _Limits(set(codecs), set(codecs), {}, {})
    return _caps(limits, _video(streams), container_of(dict(item)), req.max_bitrate, req.max_audio_channels, True)


def choose(profile: Mapping[str, Any] | None, item: dict[str, Any], streams: list[dict[str, Any]],
           req: Request = Request()) -> tuple[Decision, Capabilities]:  # fmt: skip
    """yaffw's decision for a Jellyfin client: direct play when a direct-play reading allows it,
    else HLS (video copied or transcoded) by the HLS reading. Returns the decision and the
    capabilities it was made with (their limits cap the HLS ladder).

    :raises BadInput: ``not_playable`` when neither reading plays the item (Jellyfin's
        ``NoCompatibleStream``), ``bad_audio_index`` for a stream that is not an audio track.
    """
    if profile is None:
        caps = unrestricted(item, streams, req)
        if req.enable_direct_play:
            return decide(item, streams, caps, audio_index=req.audio_index, subtitle_index=req.subtitle_index), caps
        profile = DEFAULT_HLS
    if req.enable_direct_play:
        direct = direct_capabilities(profile, item, streams, req)
        if direct is not None:
            decision = decide(item, streams, direct, audio_index=req.audio_index, subtitle_index=req.subtitle_index)
            if decision.method == "direct_play":
                return decision, direct
    hls = hls_capabilities(profile, item, streams, req) if req.enable_transcoding else None
    if hls is None:
        raise BadInput("the client can play this item neither directly nor over HLS", code="not_playable")
    return decide(item, streams, hls, audio_index=req.audio_index, subtitle_index=req.subtitle_index), hls
