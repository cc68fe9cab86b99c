"""``GET/PATCH /api/users/me/preferences``: the caller's own playback preferences.

``audio_languages``: ISO 639 codes, most wanted first (``["fra", "en"]``); an item's default audio
track is the first in one of them when the user has not picked one for that item
(:mod:`yaffw.media.tracks`). Stored as ISO 639-2/T codes (``en`` → ``eng``).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import audio_choice
from yaffw.errors import BadInput
from yaffw.media.tracks import MAX_LANGUAGES, check_languages

from yaffw_api.apidoc import op
from yaffw_api.auth import require_user
from yaffw_api.context import deps
from yaffw_api.params import json_object

bp = Blueprint("api_preferences")


async def _current(request: Request, user_id: str) -> dict[str, Any]:
    return {"audio_languages": await audio_choice.languages(deps(request).pool, user_id)}


@bp.get("/api/users/me/preferences")
async def get_preferences(request: Request) -> HTTPResponse:
    """The caller's preferences."""
    user = await require_user(request)
    return json(await _current(request, user.id))


@bp.patch("/api/users/me/preferences")
async def update_preferences(request: Request) -> HTTPResponse:
    """Change the caller's preferences (fields absent stay as they are)."""
    user = await require_user(request)
    body = json_object(request, allowed=("audio_languages",))
    if "audio_languages" in body:
        try:
            codes = check_languages(body["audio_languages"])
        except ValueError as exc:
            raise BadInput(f"audio_languages: {exc}") from exc
        await audio_choice.set_languages(deps(request).pool, user.id, codes)
    return json(await _current(request, user.id))


_PREFERENCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "audio_languages": {"type": "array", "maxItems": MAX_LANGUAGES, "items": {"type": "string", "minLength": 2,
                            "maxLength": 8, "pattern": "^[A-Za-z]+(-[A-Za-z]+)*$"},
                            "description": "ISO 639 codes, most wanted first"},
    },
}  # fmt: skip
OPENAPI = {
    "/api/users/me/preferences": {
        "get": op("The caller's playback preferences", tag="users", schema=_PREFERENCES, errors=()),
        "patch": op("Change the caller's playback preferences", tag="users", schema=_PREFERENCES, errors=("400",),
                    extra={"requestBody": {"required": True,
                                           "content": {"application/json": {"schema": _PREFERENCES}}}}),
    },
}  # fmt: skip
