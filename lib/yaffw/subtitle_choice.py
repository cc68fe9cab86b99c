"""A user's subtitle choices in the database: the stream picked per item
(``user_item_data.subtitle_stream_index``, -1 = chosen off) and the preferences of migration 0012
(``users.subtitle_languages``, ``users.subtitle_mode``): what :func:`yaffw.media.subtitle_pick.choose` needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import asyncpg

from yaffw.media.subtitle_pick import OFF

Conn: TypeAlias = "asyncpg.Connection | asyncpg.Pool"

_REMEMBER = """
INSERT INTO user_item_data (user_id, item_id, subtitle_stream_index) VALUES ($1::uuid, $2::uuid, $3)
ON CONFLICT (user_id, item_id) DO UPDATE SET subtitle_stream_index = EXCLUDED.subtitle_stream_index, updated_at = now()
"""


async def preferences(conn: Conn, user_id: str) -> tuple[list[str], str]:
    """The user's subtitle languages (ISO 639-2/T, most wanted first) and mode."""
    row = await conn.fetchrow("SELECT subtitle_languages, subtitle_mode FROM users WHERE id = $1::uuid", user_id)
    if row is None:
        return [], "default"
    return list(row["subtitle_languages"] or []), str(row["subtitle_mode"] or "default")


async def set_preferences(conn: Conn, user_id: str, languages: Sequence[str] | None, mode: str | None) -> None:
    """Store what is given (None: unchanged); values already checked by the caller."""
    await conn.execute(
        "UPDATE users SET subtitle_languages = coalesce($2, subtitle_languages),"
        " subtitle_mode = coalesce($3, subtitle_mode), updated_at = now() WHERE id = $1::uuid",
        user_id, list(languages) if languages is not None else None, mode,
    )  # fmt: skip


async def saved(conn: Conn, user_id: str, item_id: str) -> int | None:
    """The subtitle stream the user chose for ``item_id`` (:data:`OFF` when chosen off), if any."""
    value = await conn.fetchval(
        "SELECT subtitle_stream_index FROM user_item_data WHERE user_id = $1::uuid AND item_id = $2::uuid",
        user_id, item_id,
    )  # fmt: skip
    return int(value) if value is not None else None


async def remember(conn: Conn, user_id: str, item_id: str, stream_index: int | None) -> None:
    """Keep the user's choice for ``item_id``: a stream index, or None for "off" (stored as -1)."""
    await conn.execute(_REMEMBER, user_id, item_id, OFF if stream_index is None else stream_index)
