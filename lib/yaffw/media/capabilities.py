"""What a client says it can play (DESIGN §9), parsed and checked.

JSON shape (every field optional)::

    {"containers": ["mp4", "webm"], "video_codecs": ["h264", "av1"], "audio_codecs": ["aac", "opus"],
     "video_profiles": {"h264": ["constrained baseline", "main", "high"]},
     "max_video_level": {"h264": 51, "hevc": 153},
     "max_height": 1080, "max_bitrate": 8000000, "max_audio_channels": 6, "hls": true}

A missing number means "no limit". A missing list means "unknown": we assume only the safest
choice (MP4, H.264 up to High profile, AAC), which every player we know handles. Codec and profile
names are FFmpeg's, case-insensitive; levels use ffprobe's units (H.264 ``41`` = 4.1, HEVC
``level * 30``, so ``153`` = 5.1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from yaffw.errors import BadInput

SAFE_CONTAINERS = frozenset({"mp4"})
SAFE_VIDEO = frozenset({"h264"})
SAFE_AUDIO = frozenset({"aac"})
# Without a stated list, H.264 is assumed up to High (8-bit 4:2:0), never High 10 / 4:2:2 / 4:4:4.
SAFE_PROFILES = {"h264": frozenset({"constrained baseline", "baseline", "main", "high"})}

# Other spellings clients use for the same codec or container.
_ALIASES = {
    "avc": "h264", "avc1": "h264", "h.264": "h264", "h265": "hevc", "h.265": "hevc", "hvc1": "hevc",
    "hev1": "hevc", "av01": "av1", "ec-3": "eac3", "ac-3": "ac3", "mp4a": "aac", "matroska": "mkv",
    "m4v": "mp4",
}  # fmt: skip
_MAX_LIST = 64


def canonical(name: str) -> str:
    """Lower-case FFmpeg spelling of a codec or container name."""
    lowered = name.strip().lower()
    return _ALIASES.get(lowered, lowered)


def _names(raw: Any, what: str) -> frozenset[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or len(raw) > _MAX_LIST or not all(isinstance(x, str) for x in raw):
        raise BadInput(f"capabilities.{what} must be a list of strings", code="bad_capabilities")
    return frozenset(canonical(x) for x in raw)


def _limit(raw: Any, what: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
        raise BadInput(f"capabilities.{what} must be a positive number", code="bad_capabilities")
    return int(raw)


def _per_codec(raw: Any, what: str, parse: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > _MAX_LIST:
        raise BadInput(f"capabilities.{what} must be an object keyed by codec", code="bad_capabilities")
    return {canonical(str(k)): parse(v, f"{what}.{k}") for k, v in raw.items()}


@dataclass(frozen=True)
class Capabilities:
    """A client's playback abilities. ``None`` lists mean unknown; ``None`` numbers no limit."""

    containers: frozenset[str] | None = None
    video_codecs: frozenset[str] | None = None
    audio_codecs: frozenset[str] | None = None
    video_profiles: dict[str, frozenset[str]] = field(default_factory=dict)
    max_video_level: dict[str, int] = field(default_factory=dict)
    max_height: int | None = None
    max_bitrate: int | None = None
    max_audio_channels: int | None = None
    hls: bool = True

    @classmethod
    def from_json(cls, raw: Any) -> Capabilities:
        """Parse the request's ``capabilities`` object. :raises BadInput: for a wrong shape."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise BadInput("capabilities must be an object", code="bad_capabilities")
        hls = raw.get("hls", True)
        if not isinstance(hls, bool):
            raise BadInput("capabilities.hls must be true or false", code="bad_capabilities")
        return cls(
            containers=_names(raw.get("containers"), "containers"),
            video_codecs=_names(raw.get("video_codecs"), "video_codecs"),
            audio_codecs=_names(raw.get("audio_codecs"), "audio_codecs"),
            video_profiles=_per_codec(raw.get("video_profiles"), "video_profiles", _profiles),
            max_video_level=_per_codec(raw.get("max_video_level"), "max_video_level", _limit),
            max_height=_limit(raw.get("max_height"), "max_height"),
            max_bitrate=_limit(raw.get("max_bitrate"), "max_bitrate"),
            max_audio_channels=_limit(raw.get("max_audio_channels"), "max_audio_channels"),
            hls=hls,
        )

    def container_ok(self, container: str) -> bool:
        """Can the client open this container directly?"""
        return container in (self.containers if self.containers is not None else SAFE_CONTAINERS)

    def video_codec_ok(self, codec: str) -> bool:
        """Does the client decode this video codec (any profile)?"""
        return codec in (self.video_codecs if self.video_codecs is not None else SAFE_VIDEO)

    def audio_codec_ok(self, codec: str) -> bool:
        """Does the client decode this audio codec?"""
        return codec in (self.audio_codecs if self.audio_codecs is not None else SAFE_AUDIO)

    def profile_ok(self, codec: str, profile: str | None) -> bool:
        """Is this profile of ``codec`` decodable? Unknown source profiles pass."""
        if not profile or profile == "unknown":
            return True
        allowed = self.video_profiles.get(codec) or SAFE_PROFILES.get(codec)
        if allowed is None:
            return True
        return bool(_implied(codec, profile.strip().lower()) & allowed)

    def level_ok(self, codec: str, level: int | None) -> bool:
        """Is the stream's level within the client's maximum for ``codec``?"""
        limit = self.max_video_level.get(codec)
        return limit is None or level is None or level <= 0 or level <= limit


def _profiles(raw: Any, what: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise BadInput(f"capabilities.{what} must be a list of profile names", code="bad_capabilities")
    return frozenset(x.strip().lower() for x in raw)


# A decoder for the profile on the right also decodes the one on the left.
_SUBSETS = {
    "h264": {"constrained baseline": ("baseline", "main", "high"), "main": ("high",)},
    "hevc": {"main": ("main 10",), "main still picture": ("main", "main 10")},
}


def _implied(codec: str, profile: str) -> frozenset[str]:
    """``profile`` and every profile whose decoder can also play it."""
    return frozenset((profile, *_SUBSETS.get(codec, {}).get(profile, ())))
