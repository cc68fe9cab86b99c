"""SQL for reading ``activity_log`` (writing is ``yaffw.activity.write``). An entry dict:
``id, at, type, severity, user_id, user_name, item_id, item_name, message, data``.
"""

from __future__ import annotations

from typing import Any

from yaffw.errors import BadInput

from yaffw_api.queries._rows import Conn, row_dict

MAX_LIMIT = 200

_PAGE = """
SELECT a.id, a.at, a.type, a.severity, a.user_id, u.name AS user_name, a.item_id, i.name AS item_name,
       a.message, a.data
FROM activity_log a
LEFT JOIN users u ON u.id = a.user_id
LEFT JOIN media_items i ON i.id = a.item_id
ORDER BY a.at DESC, a.id DESC
OFFSET $1 LIMIT $2
"""


def page_args(offset: Any, limit: Any, *, default_limit: int = 50, max_limit: int = MAX_LIMIT) -> tuple[int, int]:
    """Parse ``offset``/``limit`` query values. :raises BadInput: not integers or out of range."""
    try:
        off = 0 if offset in (None, "") else int(offset)
        lim = default_limit if limit in (None, "") else int(limit)
    except (TypeError, ValueError):
        raise BadInput("offset and limit must be integers") from None
    if not 0 <= off <= 1_000_000:
        raise BadInput("offset must be between 0 and 1000000")
    if not 1 <= lim <= max_limit:
        raise BadInput(f"limit must be between 1 and {max_limit}")
    return off, lim


async def list_entries(conn: Conn, offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
    """One page of the log, newest first, and the total number of entries."""
    total = await conn.fetchval("SELECT count(*) FROM activity_log")
    rows = await conn.fetch(_PAGE, offset, limit) if offset < total else []
    return [row_dict(r) for r in rows], total
