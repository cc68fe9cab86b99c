"""Per-user play state, streamed in batches and converted to yaffw's units.

- 10.8–10.10 (library.db ``UserDatas``): keyed by a user-data key string and the user's
  ``InternalId``. Jellyfin reads an item's state under its first key, which it stores in
  ``TypedBaseItems.UserDataKey``; the join on that column (indexed by Jellyfin) finds the item(s).
  Jellyfin also writes the same state under an item's other keys (provider ids, the item id), and
  keeps rows whose item is gone; it reads neither, and neither is migrated.
- 10.11+ (jellyfin.db ``UserData``): keyed by item id, user id and ``CustomDataKey``; an item may
  carry one row per key. Jellyfin prefers the row whose key is the item id (``N`` format) and
  otherwise takes the first; this takes the same preference, then the most recently played.
  Rows on the placeholder item (``...0001``) are detached data Jellyfin keeps for a while.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from yaffw.jellyfin.detect import EF
from yaffw.jellyfin.source import guard
from yaffw.jellyfin.values import guid_text, parse_date, ticks_to_seconds

DETACHED_KEY = "not an item's first user-data key (secondary copy or detached; Jellyfin does not read it)"
PLACEHOLDER_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")  # BaseItemRepository.PlaceholderId

_LEGACY = """
SELECT t."guid", d."userId", d."played", d."playCount", d."playbackPositionTicks", d."isFavorite",
       d."lastPlayedDate", d."AudioStreamIndex", d."SubtitleStreamIndex"
FROM "UserDatas" d JOIN "TypedBaseItems" t ON t."UserDataKey" = d."key"
"""
_LEGACY_DETACHED = """
SELECT count(*) FROM "UserDatas" d
WHERE NOT EXISTS (SELECT 1 FROM "TypedBaseItems" t WHERE t."UserDataKey" = d."key")
"""
# Primary-key order, so one item's rows for one user arrive together.
_EF = """
SELECT "ItemId", "UserId", "Played", "PlayCount", "PlaybackPositionTicks", "IsFavorite",
       "LastPlayedDate", "AudioStreamIndex", "SubtitleStreamIndex", "CustomDataKey"
FROM "UserData" ORDER BY "ItemId", "UserId", "CustomDataKey"
"""


@dataclass(frozen=True, slots=True)
class UserDataRow:
    """One user's state for one Jellyfin item, in yaffw's units."""

    item_id: str  # GUIDs as text (what asyncpg sends as a uuid)
    user_id: str  # the Jellyfin user's id
    played: bool
    play_count: int
    position_seconds: float
    favorite: bool
    last_played: datetime | None
    audio_index: int | None
    subtitle_index: int | None


def count_rows(conn: sqlite3.Connection, path: Path, kind: str) -> int:
    """How many user-data rows there are (for the progress bar and the report)."""
    table = "UserData" if kind == EF else "UserDatas"
    with guard(path):
        return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _row(item_id: str, user_id: str, r: tuple[Any, ...]) -> UserDataRow:
    return UserDataRow(
        item_id=item_id,
        user_id=user_id,
        played=bool(r[2]),
        play_count=max(0, int(r[3] or 0)),
        position_seconds=ticks_to_seconds(r[4]),
        favorite=bool(r[5]),
        last_played=parse_date(r[6]),
        audio_index=r[7],
        subtitle_index=r[8],
    )


def _legacy(
    conn: sqlite3.Connection, users: dict[int, str], skip: Callable[..., None], batch: int
) -> Iterator[list[UserDataRow]]:
    detached = int(conn.execute(_LEGACY_DETACHED).fetchone()[0])
    if detached:
        skip(DETACHED_KEY, detached)
    cursor = conn.execute(_LEGACY)
    while rows := cursor.fetchmany(batch):
        out = []
        for r in rows:
            item_id, user_id = guid_text(r[0]), users.get(int(r[1]))
            if user_id is None:
                skip("user not in jellyfin.db")
            elif item_id is None:
                skip("unreadable item id")
            else:
                out.append(_row(item_id, user_id, r))
        yield out


def _pick(group: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    if len(group) == 1:
        return group[0]
    item_n = (guid_text(group[0][0]) or "").replace("-", "").lower()
    direct = [r for r in group if (r[9] or "").lower() == item_n]
    if direct:
        return direct[0]
    return max(group, key=lambda r: (parse_date(r[6]) is not None, parse_date(r[6]) or 0, r[9] or ""))


def _ef(conn: sqlite3.Connection, skip: Callable[..., None], batch: int) -> Iterator[list[UserDataRow]]:
    cursor = conn.execute(_EF)
    group: list[tuple[Any, ...]] = []
    out: list[UserDataRow] = []

    def flush() -> None:
        if not group:
            return
        if len(group) > 1:
            skip("another key's copy of the same item's data", len(group) - 1)
        item_id, user_id = guid_text(group[0][0]), guid_text(group[0][1])
        if item_id is not None and item_id.replace("-", "").lower() == PLACEHOLDER_ID.hex:
            skip("detached from its item (Jellyfin's placeholder)")
        elif item_id is None or user_id is None:
            skip("unreadable item or user id")
        else:
            out.append(_row(item_id, user_id, _pick(group)))
        group.clear()

    while rows := cursor.fetchmany(batch):
        for r in rows:
            if group and (r[0], r[1]) != (group[0][0], group[0][1]):
                flush()
            group.append(r)
        if len(out) >= batch:
            yield out
            out = []
    flush()
    yield out


def read_userdata(
    conn: sqlite3.Connection,
    path: Path,
    kind: str,
    users: dict[int, str],
    skip: Callable[..., None],
    batch: int = 5000,
) -> Iterator[list[UserDataRow]]:
    """Batches of user data; rows that cannot be migrated go to ``skip`` with a reason.

    ``users`` maps Jellyfin's ``InternalId`` to the user's id (10.8–10.10 rows use the former).
    :raises SourceError: on a read error, naming ``path``.
    """
    with guard(path):
        if kind == EF:
            yield from _ef(conn, skip, batch)
        else:
            yield from _legacy(conn, users, skip, batch)
