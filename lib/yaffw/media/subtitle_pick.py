"""Which subtitle stream comes on when an item starts playing (issue 13).

A choice the user made for the item wins: a stream index, or :data:`OFF` ("chosen off", stored as
-1 in ``user_item_data.subtitle_stream_index``). Without one, the user's mode decides (Jellyfin's
``SubtitleMode``, in yaffw's spelling):

- ``default`` and ``only_forced``: a forced stream in the audio's language (or with no language);
  otherwise off;
- ``always``: the first stream in the user's preferred languages (a full one before a forced one,
  text before pictures),
  else as ``default``;
- ``smart``: as ``always`` when the audio is in none of the preferred languages, else as ``default``;
- ``none``: off.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from yaffw.media import languages as lang
from yaffw.media.subtitles import IMAGE_CODECS

OFF = -1
MODES = ("default", "always", "smart", "only_forced", "none")
# Jellyfin's UserConfiguration.SubtitleMode names.
JELLYFIN_MODES = {"Default": "default", "Always": "always", "Smart": "smart", "OnlyForced": "only_forced",
                  "None": "none"}  # fmt: skip


def _subs(streams: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [s for s in streams if s.get("type", "subtitle") == "subtitle"]


def _forced_for(subs: Sequence[Mapping[str, Any]], audio_language: str | None) -> int | None:
    for s in subs:
        if s["is_forced"] and (not s["language"] or lang.same(s["language"], audio_language)):
            return int(s["stream_index"])
    return None


def _preferred(subs: Sequence[Mapping[str, Any]], languages: Sequence[str]) -> int | None:
    for wanted in languages:
        matching = [s for s in subs if lang.same(s["language"], wanted)]
        # A full track before a forced one; text before pictures (those need a transcode).
        matching.sort(key=lambda s: (bool(s["is_forced"]), str(s.get("codec") or "") in IMAGE_CODECS))
        if matching:
            return int(matching[0]["stream_index"])
    return None


def choose(streams: Sequence[Mapping[str, Any]], *, audio_language: str | None, saved: int | None,
           languages: Sequence[str], mode: str) -> int | None:  # fmt: skip
    """The subtitle stream index to show (None: off). ``streams`` are ``media_streams`` rows (other types
    are ignored); ``saved`` the user's choice for the item (:data:`OFF`, an index, or None)."""
    subs = _subs(streams)
    if saved == OFF:
        return None
    if saved is not None and any(int(s["stream_index"]) == saved for s in subs):
        return saved
    if mode == "none":
        return None
    audio_preferred = any(lang.same(audio_language, w) for w in languages)
    if mode == "always" or (mode == "smart" and not audio_preferred and languages):
        found = _preferred(subs, languages)
        if found is not None:
            return found
    return _forced_for(subs, audio_language)
