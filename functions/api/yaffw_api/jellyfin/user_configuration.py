"""``POST /Users/Configuration?userId=`` and ``POST /Users/{userId}/Configuration``: a
``UserConfiguration`` from a Jellyfin app's settings screen. yaffw keeps what it acts on:
``AudioLanguagePreference`` (one ISO 639 code, ``""`` for none) becomes the first of the user's
preferred audio languages (``/api/users/me/audio-preferences``); the rest is accepted and ignored,
as Jellyfin ignores what it does not bind. Only the user themself may change it.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty
from yaffw import audio_choice
from yaffw.errors import BadInput, Forbidden
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
    wanted = play_args.string(fields, "AudioLanguagePreference", 16)
    if "audiolanguagepreference" in fields:
        code = language_code(wanted) if wanted else None
        if wanted and code is None:
            raise BadInput("AudioLanguagePreference must be an ISO 639 language code")
        pool = deps(request).pool
        # Jellyfin has one language: it goes first, the user's others (set through /api) follow.
        others = [c for c in await audio_choice.languages(pool, user.id) if c != code]
        await audio_choice.set_languages(pool, user.id, [code, *others][:MAX_LANGUAGES] if code else [])
    return empty()


@bp.post("/users/configuration")
async def configuration(request: Request) -> HTTPResponse:
    """The caller's (``userId``, if given, must be the caller)."""
    return await _configure(request, wire.arg(request, "userId"))


@bp.post("/users/<user_id:str>/configuration")
async def configuration_legacy(request: Request, user_id: str) -> HTTPResponse:
    """The route before Jellyfin 10.9."""
    return await _configure(request, user_id)
