"""The caller's subtitle choices (issue 13).

- ``PUT /api/items/{id}/subtitle-choice`` ``{"stream_index": N | null}``: remember the subtitle the
  caller picked for the item (null: off, stored as -1), the default next time it plays.
- ``GET|PATCH /api/users/me/subtitle-preferences`` ``{"languages": ["fra", "en"], "mode": "default"}``:
  the languages wanted (ISO 639, stored as 639-2/T) and when subtitles come on by themselves
  (:mod:`yaffw.media.subtitle_pick`).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw import subtitle_choice
from yaffw.errors import BadInput, NotFound
from yaffw.media import tracks
from yaffw.media.subtitle_pick import MODES
from yaffw.media.tracks import MAX_LANGUAGES

from yaffw_api.access import visible_item
from yaffw_api.apidoc import op, path_param
from yaffw_api.auth import require_user
from yaffw_api.context import deps
from yaffw_api.params import json_object

bp = Blueprint("subtitle_prefs")


def check_languages(value: Any) -> list[str]:
    """A list of ISO 639 codes, as canonical codes (the audio preferences' rule,
    :func:`yaffw.media.tracks.check_languages`). :raises BadInput: anything else."""
    try:
        return tracks.check_languages(value)
    except ValueError as exc:
        raise BadInput(f"languages {exc}", code="bad_languages") from exc


async def _current(request: Request, user_id: str) -> dict[str, Any]:
    wanted, mode = await subtitle_choice.preferences(deps(request).pool, user_id)
    return {"languages": wanted, "mode": mode}


@bp.get("/api/users/me/subtitle-preferences")
async def get_preferences(request: Request) -> HTTPResponse:
    """The caller's subtitle preferences."""
    user = await require_user(request)
    return json(await _current(request, user.id))


@bp.patch("/api/users/me/subtitle-preferences")
async def update_preferences(request: Request) -> HTTPResponse:
    """Change the caller's subtitle preferences (fields absent stay as they are)."""
    user = await require_user(request)
    body = json_object(request, allowed=("languages", "mode"))
    wanted = check_languages(body["languages"]) if "languages" in body else None
    mode = body.get("mode")
    if mode is not None and mode not in MODES:
        raise BadInput(f"mode must be one of {', '.join(MODES)}", code="bad_mode")
    await subtitle_choice.set_preferences(deps(request).pool, user.id, wanted, mode)
    return json(await _current(request, user.id))


@bp.put("/api/items/<item_id>/subtitle-choice")
async def choose(request: Request, item_id: str) -> HTTPResponse:
    """Remember the caller's subtitle stream for the item (null: off)."""
    user = await require_user(request)
    d = deps(request)
    assert d.pool is not None
    body = json_object(request, allowed=("stream_index",))
    if "stream_index" not in body:
        raise BadInput("stream_index is required (null: subtitles off)")
    index = body["stream_index"]
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 1_000_000):
        raise BadInput("stream_index must be a subtitle stream index or null")
    item = await visible_item(d.pool, user, item_id, "i.id")
    if index is not None:
        # The item's own stream, or one of a version's (the player shows the played file's streams).
        found = await d.pool.fetchval(
            "SELECT 1 FROM media_streams s JOIN media_items m ON m.id = s.item_id WHERE (m.id = $1 OR m.film_id = $1)"
            " AND s.stream_index = $2 AND s.type = 'subtitle' LIMIT 1",
            item["id"], index,
        )  # fmt: skip
        if found is None:
            raise NotFound("no such subtitle stream", code="no_subtitle_stream")
    await subtitle_choice.remember(d.pool, user.id, str(item["id"]), index)
    return json({"stream_index": index})


_PREFS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "languages": {"type": "array", "maxItems": MAX_LANGUAGES, "items": {"type": "string", "maxLength": 16},
                      "description": "ISO 639 codes, most wanted first"},
        "mode": {"enum": list(MODES), "description": "when subtitles come on by themselves"},
    },
}  # fmt: skip
_CHOICE = {"type": "object", "additionalProperties": False, "required": ["stream_index"],
           "properties": {"stream_index": {"type": ["integer", "null"], "minimum": 0, "maximum": 999_999}}}  # fmt: skip
OPENAPI = {
    "/api/users/me/subtitle-preferences": {
        "get": op("The caller's subtitle preferences", tag="users", schema=_PREFS, errors=()),
        "patch": op("Change the caller's subtitle preferences", tag="users", schema=_PREFS, errors=("400",),
                    extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _PREFS}}}}),
    },
    "/api/items/{item_id}/subtitle-choice": {
        "put": op("Remember the caller's subtitle stream for the item (null: off)", tag="playback", schema=_CHOICE,
                  params=[path_param("item_id")], errors=("400", "404"),
                  extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _CHOICE}}}}),
    },
}  # fmt: skip
