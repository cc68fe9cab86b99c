"""Marks: ``/UserPlayedItems/{id}``, ``/UserFavoriteItems/{id}``, ``/UserItems/{id}/UserData`` and
``/UserItems/{id}/Rating``, with the legacy ``/Users/{userId}/…`` aliases clients still call.

Every change goes through ``yaffw.userdata.update`` (the function ``PUT /api/items/{id}/userdata``
uses, so both surfaces write the same rows by the same rules) and is announced with
``yaffw.userdata.publish_changed``, which every replica's ``/socket`` turns into ``UserDataChanged``.
Answers are ``UserItemDataDto``.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw import userdata
from yaffw.errors import BadInput

from yaffw_api.access import visible_item
from yaffw_api.auth import User
from yaffw_api.context import deps
from yaffw_api.jellyfin import jfauth
from yaffw_api.jellyfin.dto_userdata import user_data_dto
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.users import check_user_param
from yaffw_api.jellyfin.wire import arg, parse_id, reply, seconds
from yaffw_api.params import json_object

bp = Blueprint("jf_userdata", url_prefix=PREFIX)

# Episodes below a series or season the user has not played (Jellyfin's UnplayedItemCount).
_UNPLAYED = """
WITH RECURSIVE tree AS (
    SELECT id, type FROM media_items WHERE parent_id = $2::uuid
    UNION ALL
    SELECT m.id, m.type FROM media_items m JOIN tree t ON m.parent_id = t.id
)
SELECT count(*) FROM tree t
LEFT JOIN user_item_data u ON u.item_id = t.id AND u.user_id = $1::uuid
WHERE t.type NOT IN ('series', 'season') AND NOT COALESCE(u.played, false)
"""


async def _caller(request: Request, user_id: str | None) -> User:
    """The caller; a ``userId`` (query or legacy path) naming someone else is refused for non-admins."""
    user = await jfauth.require_user(request)
    check_user_param(user, user_id if user_id is not None else arg(request, "userId"))
    return user


async def _item(request: Request, user: User, item_id: str) -> dict[str, Any]:
    """The visible item's id, type and duration. :raises NotFound: bad id, absent or invisible."""
    return await visible_item(deps(request).pool, user, parse_id(item_id), "i.id, i.type, i.duration_seconds")


async def _dto(request: Request, user: User, item: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    unplayed = None
    if item["type"] in userdata.FOLDER_TYPES:
        unplayed = await deps(request).pool.fetchval(_UNPLAYED, user.id, str(item["id"]))
    return user_data_dto(state, str(item["id"]), item["duration_seconds"], unplayed)


async def _change(request: Request, user_id: str | None, item_id: str, **changes: Any) -> HTTPResponse:
    """Apply ``changes`` (``played``, ``favorite``, ``position_seconds``) and answer the new DTO."""
    user = await _caller(request, user_id)
    item = await _item(request, user, item_id)
    d = deps(request)
    state = await userdata.update(d.pool, user.id, str(item["id"]), **changes)
    await userdata.publish_changed(d.redis, d.keys.notify, user.id, str(item["id"]), state, item["duration_seconds"])
    return reply(await _dto(request, user, item, state))


@bp.post("/userplayeditems/<item_id:str>")
@bp.post("/users/<user_id:str>/playeditems/<item_id:str>", name="played_legacy")
async def mark_played(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """Mark played (a series or season: every episode below it). ``datePlayed`` is not kept: now is."""
    return await _change(request, user_id, item_id, played=True)


@bp.delete("/userplayeditems/<item_id:str>")
@bp.delete("/users/<user_id:str>/playeditems/<item_id:str>", name="unplayed_legacy")
async def mark_unplayed(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """Mark unplayed (and forget the resume position)."""
    return await _change(request, user_id, item_id, played=False)


@bp.post("/userfavoriteitems/<item_id:str>")
@bp.post("/users/<user_id:str>/favoriteitems/<item_id:str>", name="favorite_legacy")
async def mark_favorite(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """Add to favourites."""
    return await _change(request, user_id, item_id, favorite=True)


@bp.delete("/userfavoriteitems/<item_id:str>")
@bp.delete("/users/<user_id:str>/favoriteitems/<item_id:str>", name="unfavorite_legacy")
async def unmark_favorite(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """Remove from favourites."""
    return await _change(request, user_id, item_id, favorite=False)


@bp.get("/useritems/<item_id:str>/userdata")
@bp.get("/users/<user_id:str>/items/<item_id:str>/userdata", name="get_userdata_legacy")
async def get_user_data(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """The caller's ``UserItemDataDto`` for an item."""
    user = await _caller(request, user_id)
    item = await _item(request, user, item_id)
    state = await userdata.get(deps(request).pool, user.id, str(item["id"]))
    return reply(await _dto(request, user, item, state))


def _changes(body: dict[str, Any]) -> dict[str, Any]:
    """yaffw's changes from an ``UpdateUserItemDataDto``: Played, IsFavorite, PlaybackPositionTicks.

    Members yaffw does not keep (Rating, Likes, PlayCount, LastPlayedDate, …) are ignored, as Jellyfin
    ignores members it does not know. :raises BadInput: a kept member of the wrong type.
    """
    out: dict[str, Any] = {}
    for member, name in (("Played", "played"), ("IsFavorite", "favorite")):
        value = body.get(member)
        if value is not None and not isinstance(value, bool):
            raise BadInput(f"{member} must be true or false")
        out[name] = value
    out["position_seconds"] = seconds(body.get("PlaybackPositionTicks"), "PlaybackPositionTicks")
    return out


@bp.post("/useritems/<item_id:str>/userdata")
@bp.post("/users/<user_id:str>/items/<item_id:str>/userdata", name="post_userdata_legacy")
async def update_user_data(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """Change the caller's data from an ``UpdateUserItemDataDto`` body."""
    changes = _changes(json_object(request))
    return await _change(request, user_id, item_id, **changes)


@bp.post("/useritems/<item_id:str>/rating")
@bp.post("/users/<user_id:str>/items/<item_id:str>/rating", name="rating_legacy")
@bp.delete("/useritems/<item_id:str>/rating", name="delete_rating")
@bp.delete("/users/<user_id:str>/items/<item_id:str>/rating", name="delete_rating_legacy")
async def rating(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """Likes/dislikes: yaffw keeps none, so the item's data is answered unchanged."""
    return await get_user_data(request, item_id, user_id)
