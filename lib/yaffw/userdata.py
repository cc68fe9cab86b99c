"""Per-user play state (``user_item_data``): played, position, favorite.

Used by the api (``PUT /api/items/{id}/userdata``, the Jellyfin surface's marks), by playback
progress reports and by the reaper when it ends a session. A position past :data:`PLAYED_FRACTION`
of the item's duration marks the item played (play count + 1) and resets the position, as Jellyfin
does, so finished items leave "continue watching". Marking a series or season played (or unplayed)
marks every episode below it the same way, as Jellyfin's folders do.

Explicit changes (not progress reports) are announced with :func:`publish_changed` on the notify
channel, so every replica's listeners (SSE, the Jellyfin ``/socket``) hear them.
"""

from __future__ import annotations

import math
from typing import Any

import asyncpg

from yaffw import notify
from yaffw.errors import BadInput, NotFound

PLAYED_FRACTION = 0.9
CHANGED = "io.yaffw.userdata.changed"  # notify type of :func:`publish_changed`
FOLDER_TYPES = ("series", "season")  # items whose played mark applies to the episodes below them

_COLUMNS = "played, play_count, position_seconds, is_favorite, last_played_at, audio_stream_index, " \
    "subtitle_stream_index, updated_at"  # fmt: skip

_UPSERT = f"""
INSERT INTO user_item_data (user_id, item_id, played, play_count, position_seconds, is_favorite, last_played_at)
VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7)
ON CONFLICT (user_id, item_id) DO UPDATE SET
    played = EXCLUDED.played, play_count = EXCLUDED.play_count, position_seconds = EXCLUDED.position_seconds,
    is_favorite = EXCLUDED.is_favorite, last_played_at = EXCLUDED.last_played_at, updated_at = now()
RETURNING {_COLUMNS}
"""

# Every playable item below a folder ($2), for the folder's played mark.
_LEAVES = """
WITH RECURSIVE tree AS (
    SELECT id, type FROM media_items WHERE parent_id = $2::uuid
    UNION ALL
    SELECT m.id, m.type FROM media_items m JOIN tree t ON m.parent_id = t.id
)
"""
# Same counting rule as a single item: a play counts once per watch.
_MARK_LEAVES_PLAYED = f"""{_LEAVES}
INSERT INTO user_item_data (user_id, item_id, played, play_count, position_seconds, is_favorite, last_played_at)
SELECT $1::uuid, t.id, true, 1, 0, false, now() FROM tree t WHERE t.type NOT IN ('series', 'season')
ON CONFLICT (user_id, item_id) DO UPDATE SET
    played = true, position_seconds = 0, last_played_at = now(), updated_at = now(),
    play_count = user_item_data.play_count
        + CASE WHEN NOT user_item_data.played OR user_item_data.position_seconds > 0 THEN 1 ELSE 0 END
"""
_MARK_LEAVES_UNPLAYED = f"""{_LEAVES}
UPDATE user_item_data u SET played = false, position_seconds = 0, updated_at = now()
FROM tree t WHERE u.user_id = $1::uuid AND u.item_id = t.id AND (u.played OR u.position_seconds > 0)
"""


def as_dict(row: Any) -> dict[str, Any]:
    """The public shape: ``{played, position_seconds, favorite, play_count, last_played_at}``."""
    if row is None:
        return {"played": False, "position_seconds": 0.0, "favorite": False, "play_count": 0, "last_played_at": None}
    last = row["last_played_at"]
    return {
        "played": row["played"],
        "position_seconds": row["position_seconds"],
        "favorite": row["is_favorite"],
        "play_count": row["play_count"],
        "last_played_at": last.isoformat() if last is not None else None,
    }


def _check(played: Any, position_seconds: Any, favorite: Any) -> float | None:
    if played is not None and not isinstance(played, bool):
        raise BadInput("played must be true or false")
    if favorite is not None and not isinstance(favorite, bool):
        raise BadInput("favorite must be true or false")
    if position_seconds is None:
        return None
    if isinstance(position_seconds, bool) or not isinstance(position_seconds, int | float):
        raise BadInput("position_seconds must be a number")
    position = float(position_seconds)
    if not math.isfinite(position) or not 0 <= position <= 1e7:
        raise BadInput("position_seconds must be between 0 and 10000000")
    return position


async def get(conn: asyncpg.Connection | asyncpg.Pool, user_id: str, item_id: str) -> dict[str, Any]:
    """The user's data for one item (defaults when there is none)."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM user_item_data WHERE user_id = $1::uuid AND item_id = $2::uuid", user_id, item_id
    )
    return as_dict(row)


async def update(
    conn: asyncpg.Connection | asyncpg.Pool,
    user_id: str,
    item_id: str,
    *,
    played: bool | None = None,
    position_seconds: float | None = None,
    favorite: bool | None = None,
    duration_seconds: float | None = None,
) -> dict[str, Any]:
    """Change some of the user's data for an item; fields left ``None`` keep their value.

    ``played=True`` counts a play and clears the position; ``played=False`` clears both. A position
    at or past 90% of the item's duration (or of ``duration_seconds``: the length of what was
    played, another version of a film) marks it played. On a series or season, ``played`` applies
    to every episode below it too. The caller checks the user may see the item. Returns
    :func:`as_dict` of the new state.

    :raises BadInput: wrong types or an impossible position. :raises NotFound: no such item.
    """
    position = _check(played, position_seconds, favorite)
    if isinstance(conn, asyncpg.Pool):
        async with conn.acquire() as c:
            return await _update(c, user_id, item_id, played, position, favorite, duration_seconds)
    return await _update(conn, user_id, item_id, played, position, favorite, duration_seconds)


async def _update(conn: asyncpg.Connection, user_id: str, item_id: str, played: bool | None,
                  position: float | None, favorite: bool | None,
                  duration_seconds: float | None = None) -> dict[str, Any]:  # fmt: skip
    async with conn.transaction():
        item = await conn.fetchrow("SELECT duration_seconds, type FROM media_items WHERE id = $1::uuid", item_id)
        if item is None:
            raise NotFound("item not found")
        duration = duration_seconds or item["duration_seconds"]
        if played is not None and item["type"] in FOLDER_TYPES:
            await conn.execute(_MARK_LEAVES_PLAYED if played else _MARK_LEAVES_UNPLAYED, user_id, item_id)
        # Row lock: two progress reports for the same user and item apply one after the other.
        old = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM user_item_data WHERE user_id = $1::uuid AND item_id = $2::uuid FOR UPDATE",
            user_id, item_id,
        )  # fmt: skip
        cur = as_dict(old)
        new_played, count, pos, fav = cur["played"], cur["play_count"], cur["position_seconds"], cur["favorite"]
        last = old["last_played_at"] if old is not None else None
        now = await conn.fetchval("SELECT now()")
        finished = played is True
        if favorite is not None:
            fav = favorite
        if position is not None:
            last = now
            if duration and position >= PLAYED_FRACTION * duration:
                finished = True
            else:
                pos = position
        if finished:
            # Count a play once per watch: repeated reports in the credits, or marking an already
            # finished item played again, do not add more.
            if not cur["played"] or cur["position_seconds"] > 0:
                count += 1
            new_played, pos, last = True, 0.0, now
        elif played is False:
            new_played, pos = False, 0.0
        row = await conn.fetchrow(_UPSERT, user_id, item_id, new_played, count, pos, fav, last)
        return as_dict(row)


async def publish_changed(redis: Any, channel: str, user_id: str, item_id: str, state: dict[str, Any],
                          duration_seconds: float | None = None) -> None:  # fmt: skip
    """Announce a user's changed play state for one item on the notify channel (``Keys.notify``):
    type :data:`CHANGED`, data ``{item_id, user_data, duration_seconds}``, audience that user."""
    data = {"item_id": str(item_id), "user_data": state, "duration_seconds": duration_seconds}
    await notify.publish(redis, channel, CHANGED, data, user_id=str(user_id))
