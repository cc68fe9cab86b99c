"""Which audio track plays by default, how the track menu names one, how many channels an AAC
encode keeps, and which subtitles are pictures (pure: no I/O).

The rule, for a user and an item: the track they chose last time for this item (if the file still
has it), else the first track in one of their preferred languages (in their order of preference),
else the track the file flags as default, else the first. Languages compare as ISO 639 codes
whatever the spelling (``en``, ``eng``; ``fr``, ``fre``, ``fra``), as files and users write both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from yaffw.media import languages as iso

_LAYOUTS = {1: "Mono", 2: "Stereo", 3: "2.1", 6: "5.1", 7: "6.1", 8: "7.1"}
MAX_LANGUAGES = 16
# What FFmpeg's AAC encoder writes with a standard layout: 1-6 channels and 7.1. Seven (6.1) has
# none, so it becomes 5.1.
MAX_AAC_CHANNELS = 8
_AAC_CHANNELS = {7: 6}
# Subtitle codecs that are pictures (teletext too: FFmpeg's libzvbi decodes it to bitmaps): they can
# only reach a player burned into the video (yaffw.media.subtitles.IMAGE_CODECS names this set).
IMAGE_SUBTITLES = frozenset({"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub", "dvb_teletext"})


def language_code(raw: str | None) -> str | None:
    """``raw`` as an ISO 639-2/T code (``"EN"`` → ``"eng"``); None for none or ``und``."""
    return iso.canonical(raw)


def audio_streams(streams: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audio streams of ``streams`` (``media_streams`` rows), in file order."""
    return sorted((s for s in streams if s.get("type") == "audio"), key=lambda s: int(s["stream_index"]))


def choose_audio(streams: Sequence[dict[str, Any]], *, saved: int | None = None,
                 languages: Sequence[str] = ()) -> int | None:  # fmt: skip
    """The default audio stream index for a user: ``saved`` (their last choice for this item) when
    it is still an audio track, else the first track in the earliest of ``languages``, else the
    default-flagged track, else the first; None for an item without audio."""
    audios = audio_streams(streams)
    if not audios:
        return None
    if saved is not None and any(int(s["stream_index"]) == saved for s in audios):
        return saved
    for wanted in (language_code(x) for x in languages):
        match = next((s for s in audios if wanted and language_code(s.get("language")) == wanted), None)
        if match is not None:
            return int(match["stream_index"])
    flagged = next((s for s in audios if s.get("is_default")), audios[0])
    return int(flagged["stream_index"])


def aac_channels(channels: int | None) -> int:
    """How many channels AAC gets for a source (or requested) count: the same, within 7.1."""
    wanted = max(1, min(int(channels or 2), MAX_AAC_CHANNELS))
    return _AAC_CHANNELS.get(wanted, wanted)


def channel_layout(channels: int | None) -> str | None:
    """How a menu names a channel count: Mono, Stereo, 5.1, 7.1 (``"4 ch"`` for the rest)."""
    if not channels:
        return None
    return _LAYOUTS.get(int(channels), f"{int(channels)} ch")


def check_languages(raw: Any) -> list[str]:
    """A user's preferred languages from JSON (a list of ISO 639 codes), normalised, duplicates dropped.

    :raises ValueError: not a list of at most :data:`MAX_LANGUAGES` short language codes.
    """
    if not isinstance(raw, list) or len(raw) > MAX_LANGUAGES:
        raise ValueError(f"must be a list of at most {MAX_LANGUAGES} language codes")
    out: list[str] = []
    for item in raw:
        code = language_code(item) if isinstance(item, str) and len(item) <= 16 else None
        if code is None:
            raise ValueError(f"{str(item)[:20]!r} is not a language code (ISO 639: en, eng, fr, fra...)")
        if code not in out:
            out.append(code)
    return out
