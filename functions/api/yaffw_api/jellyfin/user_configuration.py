"""``POST /Users/Configuration?userId=`` and ``POST /Users/{userId}/Configuration``: a
``UserConfiguration`` from a Jellyfin app's settings screen. yaffw keeps what it acts on:
``AudioLanguagePreference`` (one ISO 639 code, ``""`` for none) becomes the first of the user's
preferred audio languages (``/api/users/me/audio-preferences``), ``SubtitleLanguagePreference`` the
first of the subtitle ones and ``SubtitleMode`` their mode (``/api/users/me/subtitle-preferences``);
the rest is accepted and ignored, as Jellyfin ignores what it does not bind. Only the user themself may change it.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty
from yaffw import audio_choice, subtitle_choice
from yaffw.errors import BadInput, Forbidden
from yaffw.media.languages import canonical
from yaffw.media.subtitle_pick import JELLYFIN_MODES
from yaffw.media.tracks import MAX_LANGUAGES, language_code

from yaffw_api.context import deps
from yaffw_api.jellyfin import jfauth, play_args, wire
from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_user_configuration", url_prefix=PREFIX)


async def _configure(request: Request, user_id: str | None) -> HTTPResponse:
    user = await jfauth.require_user(request)
    if user_id and wire.parse_id(user_id, "user", bad_input=True) != user.id:
        raise Forbidden("a user's configuration is theirs to change")
    fields = play_args.body(request)
    sub_languages, sub_mode = await _subtitles(request, user.id, fields)  # checked before anything is written
    wanted = play_args.string(fields, "AudioLanguagePreference", 16)
    if "audiolanguagepreference" in fields:
        code = language_code(wanted) if wanted else None
        if wanted and code is None:
            raise BadInput("AudioLanguagePreference must be an ISO 639 language code")
        pool = deps(request).pool
        # Jellyfin has one language: it goes first, the user's others (set through /api) follow.
        others = [c for c in await audio_choice.languages(pool, user.id) if c != code]
        await audio_choice.set_languages(pool, user.id, [code, *others][:MAX_LANGUAGES] if code else [])
    if sub_languages is not None or sub_mode is not None:
        await subtitle_choice.set_preferences(deps(request).pool, user.id, sub_languages, sub_mode)
    return empty()


async def _subtitles(request: Request, user_id: str, fields: dict[str, Any]) -> tuple[list[str] | None, str | None]:
    """The subtitle languages (``SubtitleLanguagePreference`` first, the user's others after) and mode
    (``SubtitleMode``, :data:`yaffw.media.subtitle_pick.JELLYFIN_MODES`) to store; None for what is not
    given. :raises BadInput: an unknown language or mode."""
    pool = deps(request).pool
    languages = None
    if "subtitlelanguagepreference" in fields:
        wanted = play_args.string(fields, "SubtitleLanguagePreference", 16)
        code = canonical(wanted) if wanted else None
        if wanted and code is None:
            raise BadInput("SubtitleLanguagePreference must be an ISO 639 language code")
        current, _ = await subtitle_choice.preferences(pool, user_id)
        others = [c for c in current if c != code]
        languages = [code, *others][:MAX_LANGUAGES] if code else []
    mode = None
    given = play_args.string(fields, "SubtitleMode", 16)
    if given is not None:
        mode = JELLYFIN_MODES.get(given)
        if mode is None:
            raise BadInput(f"SubtitleMode must be one of {', '.join(JELLYFIN_MODES)}")
    return languages, mode


@bp.post("/users/configuration")
async def configuration(request: Request) -> HTTPResponse:
    """The caller's (``userId``, if given, must be the caller)."""
    return await _configure(request, wire.arg(request, "userId"))


@bp.post("/users/<user_id:str>/configuration")
async def configuration_legacy(request: Request, user_id: str) -> HTTPResponse:
    """The route before Jellyfin 10.9."""
    return await _configure(request, user_id)
