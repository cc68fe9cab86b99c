"""PostgreSQL writes of the migration, one function per kind of row. Every write is an upsert that
changes nothing when the row is already as it would be written, so a second run writes nothing.

The provenance tables (``jellyfin_users``, ``jellyfin_libraries``, ``jellyfin_items``; migration
0006) record what each Jellyfin id became. Callers run each phase in one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from yaffw.jellyfin.read_items import JellyfinItem
from yaffw.jellyfin.read_userdata import UserDataRow

# A password hash no password verifies (yaffw.passwords rejects unknown formats): for Jellyfin users
# who had no password. yaffw requires one; an admin sets it.
NO_PASSWORD = "!jellyfin-no-password"


@dataclass(frozen=True)
class Outcome:
    """What an upsert did: ``id`` of the yaffw row, ``written`` (new or changed), ``linked`` (joined
    an existing yaffw row instead of creating one)."""

    id: uuid.UUID
    written: bool
    linked: bool = False


# --- libraries -------------------------------------------------------------------------------------

_LIB_BY_MAP = "SELECT l.id, l.paths FROM jellyfin_libraries j JOIN libraries l ON l.id = j.library_id WHERE j.name = $1"
# A yaffw library of the same name, or one that already holds one of the paths (two libraries
# over one folder would fight over its items).
_LIB_EXISTING = """
SELECT id, paths FROM libraries WHERE lower(name) = lower($1) OR paths && $2::text[]
ORDER BY lower(name) = lower($1) DESC, created_at LIMIT 1
"""
_LIB_INSERT = "INSERT INTO libraries (name, kind, paths) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id"
_LIB_MAP = """
INSERT INTO jellyfin_libraries (name, library_id) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET library_id = EXCLUDED.library_id
WHERE jellyfin_libraries.library_id IS DISTINCT FROM EXCLUDED.library_id
"""
_LIB_ADD_PATHS = "UPDATE libraries SET paths = paths || $2::text[] WHERE id = $1"


async def upsert_library(conn: asyncpg.Connection, name: str, kind: str, paths: Sequence[str]) -> Outcome:
    """The yaffw library for Jellyfin library ``name``: the one a previous run made, else an existing
    one of that name or holding one of ``paths``, else a new one. Paths it lacks are added."""
    row = await conn.fetchrow(_LIB_BY_MAP, name)
    linked = False
    written = False
    if row is None:
        row = await conn.fetchrow(_LIB_EXISTING, name, list(paths))
        if row is None:
            new_id = await conn.fetchval(_LIB_INSERT, name, kind, list(paths))
            if new_id is None:  # created concurrently under the same name
                row = await conn.fetchrow(_LIB_EXISTING, name, list(paths))
            else:
                row = {"id": new_id, "paths": list(paths)}
                written = True
        if not written:
            linked = True
        await conn.execute(_LIB_MAP, name, row["id"])
        written = True
    missing = [p for p in paths if p not in row["paths"]]
    if missing:
        await conn.execute(_LIB_ADD_PATHS, row["id"], missing)
        written = True
    return Outcome(row["id"], written, linked)


# --- users -----------------------------------------------------------------------------------------

_USER_BY_MAP = """
SELECT j.user_id, j.linked FROM jellyfin_users j JOIN users u ON u.id = j.user_id WHERE j.jellyfin_id = $1
"""
_USER_BY_NAME = "SELECT id FROM users WHERE lower(name) = lower($1)"
_USER_INSERT = """
INSERT INTO users (name, password_hash, is_admin, is_disabled, last_login_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING RETURNING id
"""
_USER_MAP = """
INSERT INTO jellyfin_users (jellyfin_id, internal_id, user_id, linked) VALUES ($1, $2, $3, $4)
ON CONFLICT (jellyfin_id) DO UPDATE SET internal_id = EXCLUDED.internal_id, user_id = EXCLUDED.user_id,
    linked = EXCLUDED.linked
"""
_ACCESS = """
WITH ins AS (
    INSERT INTO library_access (user_id, library_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING 1
) SELECT count(*) FROM ins
"""


async def upsert_user(
    conn: asyncpg.Connection,
    jellyfin_id: uuid.UUID,
    internal_id: int,
    name: str,
    password_hash: str,
    is_admin: bool,
    is_disabled: bool,
    last_login: object,
) -> Outcome:
    """The yaffw user for a Jellyfin user. A user a previous run made is left as it is (its owner may
    have changed the password since); a yaffw user of the same name is linked, keeping its own
    password and flags; otherwise the user is created with Jellyfin's password hash and flags."""
    row = await conn.fetchrow(_USER_BY_MAP, jellyfin_id)
    if row is not None:
        return Outcome(row["user_id"], False, row["linked"])
    existing = await conn.fetchval(_USER_BY_NAME, name)
    linked = existing is not None
    user_id = existing
    if user_id is None:
        user_id = await conn.fetchval(_USER_INSERT, name, password_hash, is_admin, is_disabled, last_login)
        if user_id is None:  # created concurrently under the same name
            user_id, linked = await conn.fetchval(_USER_BY_NAME, name), True
    await conn.execute(_USER_MAP, jellyfin_id, internal_id, user_id, linked)
    return Outcome(user_id, True, linked)


async def grant(conn: asyncpg.Connection, user_id: uuid.UUID, library_ids: Sequence[uuid.UUID]) -> int:
    """Give ``user_id`` access to ``library_ids``; returns how many grants are new."""
    if not library_ids:
        return 0
    return int(await conn.fetchval(_ACCESS, user_id, list(library_ids)))


# --- items and user data: streamed into a staging table, merged once per phase -------------------
#
# Batches go into a temporary table with binary COPY (several times cheaper per row than array
# parameters), and one set-based statement per phase matches and merges them. The staging table
# lives in PostgreSQL, not in this process, and is dropped when the phase's transaction ends.

_STAGE_ITEMS = "CREATE TEMP TABLE jf_stage_items (jellyfin_id uuid, path text) ON COMMIT DROP"
_STAGE_USERDATA = """
CREATE TEMP TABLE jf_stage_userdata (
    jf_item uuid, jf_user uuid, played bool, play_count int, position float8, favorite bool,
    last_played timestamptz, audio int, subtitle int
) ON COMMIT DROP
"""

# The yaffw item at each path: a file item (header hash) before a folder, then the newest.
_ITEMS = """
WITH m AS (
    SELECT s.jellyfin_id, s.path,
           (SELECT i.id FROM media_items i WHERE i.path = s.path
            ORDER BY i.header_hash IS NULL, i.date_modified DESC, i.id LIMIT 1) AS item_id
    FROM jf_stage_items s
),
up AS (
    INSERT INTO jellyfin_items (jellyfin_id, path, item_id) SELECT jellyfin_id, path, item_id FROM m
    ON CONFLICT (jellyfin_id) DO UPDATE SET path = EXCLUDED.path, item_id = EXCLUDED.item_id
    WHERE (jellyfin_items.path, jellyfin_items.item_id) IS DISTINCT FROM (EXCLUDED.path, EXCLUDED.item_id)
    RETURNING 1
)
SELECT count(*) FILTER (WHERE item_id IS NOT NULL) AS matched,
       count(*) FILTER (WHERE item_id IS NULL) AS unmatched,
       (SELECT count(*) FROM up) AS written,
       (array_agg(path ORDER BY path) FILTER (WHERE item_id IS NULL))[1:$1] AS examples
FROM m
"""


@dataclass(frozen=True)
class ItemsOutcome:
    """What matching the staged items did."""

    matched: int
    unmatched: int
    written: int
    examples: list[str]  # unmatched paths, at most the number asked for


async def stage_items(conn: asyncpg.Connection) -> None:
    """Create the phase's staging table (inside its transaction)."""
    await conn.execute(_STAGE_ITEMS)


async def copy_items(conn: asyncpg.Connection, items: Sequence[JellyfinItem], paths: Sequence[str]) -> None:
    """Stage a batch: each Jellyfin item with its path as yaffw sees it."""
    if items:
        records = [(i.id, p) for i, p in zip(items, paths, strict=True)]
        await conn.copy_records_to_table("jf_stage_items", records=records)


async def match_items(conn: asyncpg.Connection, examples: int) -> ItemsOutcome:
    """Record, for each staged Jellyfin item, the yaffw item at its path, or none."""
    await conn.execute("ANALYZE jf_stage_items")  # temporary tables get no statistics otherwise
    row = await conn.fetchrow(_ITEMS, max(examples, 0))
    return ItemsOutcome(row["matched"], row["unmatched"], row["written"], list(row["examples"] or []))


# Merge with what yaffw already holds (a user who watched in yaffw since, or two Jellyfin items on one
# file): the more recently played state wins for played/position/streams, the higher play count,
# favourite if either. Applying the same rows again yields the same values, so nothing is written.
_USERDATA = """
WITH j AS (
    SELECT d.*, i.item_id, u.user_id, i.jellyfin_id IS NOT NULL AS known_item
    FROM jf_stage_userdata d LEFT JOIN jellyfin_items i ON i.jellyfin_id = d.jf_item
                             LEFT JOIN jellyfin_users u ON u.jellyfin_id = d.jf_user
),
ok AS (
    SELECT DISTINCT ON (user_id, item_id) * FROM j WHERE item_id IS NOT NULL AND user_id IS NOT NULL
    ORDER BY user_id, item_id, last_played DESC NULLS LAST, play_count DESC, position DESC
),
merged AS (
    SELECT ok.user_id, ok.item_id,
           CASE WHEN n.newer THEN ok.played ELSE x.played END AS played,
           GREATEST(ok.play_count, x.play_count) AS play_count,
           CASE WHEN n.newer THEN ok.position ELSE x.position_seconds END AS position,
           (ok.favorite OR coalesce(x.is_favorite, false)) AS favorite,
           GREATEST(ok.last_played, x.last_played_at) AS last_played,
           CASE WHEN n.newer THEN coalesce(ok.audio, x.audio_stream_index)
                ELSE coalesce(x.audio_stream_index, ok.audio) END AS audio,
           CASE WHEN n.newer THEN coalesce(ok.subtitle, x.subtitle_stream_index)
                ELSE coalesce(x.subtitle_stream_index, ok.subtitle) END AS subtitle
    FROM ok LEFT JOIN user_item_data x ON x.user_id = ok.user_id AND x.item_id = ok.item_id
    CROSS JOIN LATERAL (
        SELECT x.user_id IS NULL
            OR coalesce(ok.last_played, '-infinity') > coalesce(x.last_played_at, '-infinity') AS newer
    ) n
),
up AS (
    INSERT INTO user_item_data AS t (user_id, item_id, played, play_count, position_seconds, is_favorite,
                                     last_played_at, audio_stream_index, subtitle_stream_index)
    SELECT user_id, item_id, played, play_count, position, favorite, last_played, audio, subtitle FROM merged
    ON CONFLICT (user_id, item_id) DO UPDATE SET
        played = EXCLUDED.played, play_count = EXCLUDED.play_count, position_seconds = EXCLUDED.position_seconds,
        is_favorite = EXCLUDED.is_favorite, last_played_at = EXCLUDED.last_played_at,
        audio_stream_index = EXCLUDED.audio_stream_index, subtitle_stream_index = EXCLUDED.subtitle_stream_index,
        updated_at = now()
    WHERE (t.played, t.play_count, t.position_seconds, t.is_favorite, t.last_played_at, t.audio_stream_index,
           t.subtitle_stream_index)
        IS DISTINCT FROM (EXCLUDED.played, EXCLUDED.play_count, EXCLUDED.position_seconds, EXCLUDED.is_favorite,
           EXCLUDED.last_played_at, EXCLUDED.audio_stream_index, EXCLUDED.subtitle_stream_index)
    RETURNING 1
)
SELECT count(*) FILTER (WHERE user_id IS NULL) AS no_user,
       count(*) FILTER (WHERE user_id IS NOT NULL AND NOT known_item) AS item_not_migrated,
       count(*) FILTER (WHERE user_id IS NOT NULL AND known_item AND item_id IS NULL) AS item_unmatched,
       count(*) FILTER (WHERE user_id IS NOT NULL AND item_id IS NOT NULL) AS usable,
       (SELECT count(*) FROM ok) AS distinct_rows,
       (SELECT count(*) FROM up) AS written
FROM j
"""


@dataclass(frozen=True)
class UserDataOutcome:
    """What merging the staged user data did."""

    written: int  # rows inserted or changed
    unchanged: int  # rows already as they would be
    no_user: int  # the Jellyfin user was not migrated
    item_not_migrated: int  # the Jellyfin item was skipped (not a video, virtual, no path)
    item_unmatched: int  # no yaffw item at the item's path
    merged: int  # several Jellyfin items on the same yaffw item


async def stage_userdata(conn: asyncpg.Connection) -> None:
    """Create the phase's staging table (inside its transaction)."""
    await conn.execute(_STAGE_USERDATA)


async def copy_userdata(conn: asyncpg.Connection, rows: Sequence[UserDataRow]) -> None:
    """Stage a batch of Jellyfin user data."""
    if rows:
        records = [
            (r.item_id, r.user_id, r.played, r.play_count, r.position_seconds, r.favorite, r.last_played,
             r.audio_index, r.subtitle_index)
            for r in rows
        ]  # fmt: skip
        await conn.copy_records_to_table("jf_stage_userdata", records=records)


async def merge_userdata(conn: asyncpg.Connection) -> UserDataOutcome:
    """Merge the staged user data into ``user_item_data``."""
    await conn.execute("ANALYZE jf_stage_userdata")
    r = await conn.fetchrow(_USERDATA)
    return UserDataOutcome(
        written=r["written"],
        unchanged=r["distinct_rows"] - r["written"],
        no_user=r["no_user"],
        item_not_migrated=r["item_not_migrated"],
        item_unmatched=r["item_unmatched"],
        merged=r["usable"] - r["distinct_rows"],
    )
