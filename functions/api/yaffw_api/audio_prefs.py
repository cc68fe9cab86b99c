"""``GET|PATCH /api/users/me/audio-preferences`` ``{"languages": ["fra", "en"]}``: the caller's
preferred audio languages, most wanted first. An item's default audio track is the first in one of
them when the user has not picked one for that item (:mod:`yaffw.media.tracks`). Stored as ISO
639-2/T codes (``en`` → ``eng``) in ``users.audio_languages`` (migration 0013). The subtitle twin is
``/api/users/me/subtitle-preferences`` (:mod:`yaffw_api.subtitle_prefs`).
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

bp = Blueprint("audio_prefs")


async def _current(request: Request, user_id: str) -> dict[str, Any]:
    return {"languages": await audio_choice.languages(deps(request).pool, user_id)}


@bp.get("/api/users/me/audio-preferences")
async def get_preferences(request: Request) -> HTTPResponse:
    """The caller's preferred audio languages."""
    user = await require_user(request)
    return json(await _current(request, user.id))


@bp.patch("/api/users/me/audio-preferences")
async def update_preferences(request: Request) -> HTTPResponse:
    """Change the caller's preferred audio languages."""
    user = await require_user(request)
    body = json_object(request, allowed=("languages",))
    if "languages" in body:
        try:
            codes = check_languages(body["languages"])
        except ValueError as exc:
            raise BadInput(f"languages: {exc}") from exc
        await audio_choice.set_languages(deps(request).pool, user.id, codes)
    return json(await _current(request, user.id))


_PREFERENCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "languages": {"type": "array", "maxItems": MAX_LANGUAGES, "items": {"type": "string", "minLength": 2,
                            "maxLength": 8, "pattern": "^[A-Za-z]+(-[A-Za-z]+)*$"},
                            "description": "ISO 639 codes, most wanted first"},
    },
}  # fmt: skip
OPENAPI = {
    "/api/users/me/audio-preferences": {
        "get": op("The caller's preferred audio languages", tag="users", schema=_PREFERENCES, errors=()),
        "patch": op("Change the caller's preferred audio languages", tag="users", schema=_PREFERENCES, errors=("400",),
                    extra={"requestBody": {"required": True,
                                           "content": {"application/json": {"schema": _PREFERENCES}}}}),
    },
}  # fmt: skip
