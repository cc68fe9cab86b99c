"""A user's audio choices in the database: the track they picked per item
(``user_item_data.audio_stream_index``) and their preferred audio languages
(``users.audio_languages``, migration 0013): what :func:`yaffw.media.tracks.choose_audio` needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

_REMEMBER = """
INSERT INTO user_item_data (user_id, item_id, audio_stream_index) VALUES ($1::uuid, $2::uuid, $3)
ON CONFLICT (user_id, item_id) DO UPDATE SET audio_stream_index = EXCLUDED.audio_stream_index, updated_at = now()
"""


async def languages(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> list[str]:
    """The user's preferred audio languages (ISO 639-2 codes, most wanted first)."""
    found = await conn.fetchval("SELECT audio_languages FROM users WHERE id = $1::uuid", user_id)
    return list(found or [])


async def set_languages(conn: asyncpg.Connection | asyncpg.Pool, user_id: str, codes: Sequence[str]) -> None:
    """Store the user's preferred audio languages (already checked by ``tracks.check_languages``)."""
    await conn.execute("UPDATE users SET audio_languages = $2, updated_at = now() WHERE id = $1::uuid", user_id,
                       list(codes))  # fmt: skip


async def saved(conn: asyncpg.Connection | asyncpg.Pool, user_id: str, item_id: str) -> int | None:
    """The audio stream the user chose last time for ``item_id``, if any."""
    value = await conn.fetchval(
        "SELECT audio_stream_index FROM user_item_data WHERE user_id = $1::uuid AND item_id = $2::uuid", user_id,
        item_id,
    )  # fmt: skip
    return int(value) if value is not None else None


async def remember(conn: asyncpg.Connection | asyncpg.Pool, user_id: str, item_id: str, stream_index: int) -> None:
    """Keep ``stream_index`` as the user's audio track for ``item_id`` (the default next time)."""
    await conn.execute(_REMEMBER, user_id, item_id, stream_index)


async def default_audio(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: str, item_id: str
) -> tuple[int | None, list[str]]:
    """The user's saved track for ``item_id`` and their languages: what ``choose_audio`` needs."""
    return await saved(conn, user_id, item_id), await languages(conn, user_id)
