"""Library access (DESIGN §7): every item, image, stream and segment request is filtered by the
libraries the caller may see. Anything outside them is ``NotFound``, so ids do not leak.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from yaffw.errors import NotFound

from yaffw_api.auth import User

# Admins see every library; other users the ones granted in library_access.
VISIBLE_LIBRARIES = """
SELECT l.id FROM libraries l
WHERE $1::bool OR EXISTS (SELECT 1 FROM library_access a WHERE a.library_id = l.id AND a.user_id = $2::uuid)
"""


async def visible_library_ids(conn: asyncpg.Pool | asyncpg.Connection, user: User) -> list[str]:
    """Ids of the libraries ``user`` may see."""
    rows = await conn.fetch(VISIBLE_LIBRARIES, user.is_admin, user.id)
    return [str(r["id"]) for r in rows]


async def visible_item(conn: asyncpg.Pool | asyncpg.Connection, user: User, item_id: str,
                       columns: str = "*") -> dict[str, Any]:  # fmt: skip
    """The item row if ``user`` may see it. :raises NotFound: if absent, invisible or a bad id."""
    try:
        row = await conn.fetchrow(
            # $1 and $2 belong to VISIBLE_LIBRARIES, so the item id comes third.
            f"SELECT {columns} FROM media_items i WHERE i.id = $3::uuid AND i.library_id IN ("
            f"{VISIBLE_LIBRARIES})",
            user.is_admin, user.id, item_id,
        )  # fmt: skip
    except (asyncpg.DataError, ValueError) as exc:
        raise NotFound("item not found") from exc
    if row is None:
        raise NotFound("item not found")
    return dict(row)
