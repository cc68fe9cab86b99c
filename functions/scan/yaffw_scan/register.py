"""The scan's SQL: load what the database knows about a library, and write what the scan found.

Files are upserted on ``UNIQUE (path, header_hash)`` and folders (series, season) on
``(library_id, type, path) WHERE header_hash IS NULL`` (migration 0002), so running the same scan
twice at once cannot duplicate a row. A file found again under a new path is updated in place, so
its id — and every user's data — stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import asyncpg
from yaffw.errors import NotFound
from yaffw.media.probe import StreamInfo

Conn = asyncpg.Connection | asyncpg.Pool


@dataclass(frozen=True, slots=True)
class Library:
    """A row of ``libraries``."""

    id: str
    name: str
    kind: str
    paths: tuple[str, ...]


@dataclass(slots=True)
class FileRow:
    """What the database holds for one media file."""

    id: str
    type: str
    path: str
    size: int | None
    mtime: float | None
    header_hash: str
    sidecar_hash: str | None
    naming_version: int | None = None


@dataclass(slots=True)
class FolderRow:
    """A series or season row."""

    id: str
    type: str
    path: str
    sidecar_hash: str | None
    parent_id: str | None
    index_number: int | None


@dataclass
class State:
    """A library's rows, loaded once at the start of a scan."""

    files: dict[str, FileRow] = field(default_factory=dict)  # path → row
    folders: dict[tuple[str, str], FolderRow] = field(default_factory=dict)  # (type, path) → row
    failures: dict[str, tuple[int | None, float | None]] = field(default_factory=dict)  # path → (size, mtime)


MEDIA_COLUMNS = (
    "parent_id", "type", "name", "sort_name", "original_title", "year", "plot", "genres", "rating",
    "index_number", "parent_index_number", "path", "header_hash", "size", "mtime", "container",
    "duration_seconds", "bitrate", "sidecar_hash", "extra_kind", "owner_id", "air_date", "naming_version",
    "file_duration_seconds",
)  # fmt: skip
FOLDER_COLUMNS = (
    "parent_id", "type", "name", "sort_name", "original_title", "year", "plot", "genres", "rating",
    "index_number", "path", "sidecar_hash",
)  # fmt: skip
STREAM_COLUMNS = (
    "item_id", "stream_index", "type", "codec", "profile", "level", "width", "height", "frame_rate", "bit_depth",
    "pixel_format", "channels", "channel_layout", "sample_rate", "bitrate", "language", "title", "is_default",
    "is_forced", "is_external", "external_path",
)  # fmt: skip


def _upsert_sql(columns: tuple[str, ...], conflict: str) -> str:
    names = ", ".join(("library_id", *columns))
    params = ", ".join(f"${n}" for n in range(1, len(columns) + 2))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ("library_id", *columns))
    return (
        f"INSERT INTO media_items ({names}) VALUES ({params}) ON CONFLICT {conflict} "
        f"DO UPDATE SET {updates}, date_modified = now() RETURNING id, (xmax = 0) AS inserted"
    )


_UPSERT_FILE = _upsert_sql(MEDIA_COLUMNS, "(path, header_hash)")
_UPSERT_FOLDER = _upsert_sql(FOLDER_COLUMNS, "(library_id, type, path) WHERE header_hash IS NULL")
_UPDATE_FILE = (
    "UPDATE media_items SET "
    + ", ".join(f"{c} = ${n}" for n, c in enumerate(MEDIA_COLUMNS, start=2))
    + ", date_modified = now() WHERE id = $1 RETURNING id"
)


async def load_library(conn: Conn, library_id: str) -> Library:
    """:raises NotFound: if there is no such library."""
    row = await conn.fetchrow("SELECT id, name, kind, paths FROM libraries WHERE id = $1", library_id)
    if row is None:
        raise NotFound(f"library {library_id} not found")
    return Library(str(row["id"]), row["name"], row["kind"], tuple(row["paths"]))


async def load_state(conn: Conn, library_id: str) -> State:
    """Every file, folder and recorded failure of the library."""
    state = State()
    for r in await conn.fetch(
        "SELECT id, type, path, size, mtime, header_hash, sidecar_hash, parent_id, index_number, naming_version"
        " FROM media_items WHERE library_id = $1",
        library_id,
    ):
        if r["header_hash"] is not None:
            state.files[r["path"]] = FileRow(
                str(r["id"]),
                r["type"],
                r["path"],
                r["size"],
                r["mtime"],
                r["header_hash"],
                r["sidecar_hash"],
                r["naming_version"],
            )
        else:
            parent = str(r["parent_id"]) if r["parent_id"] else None
            state.folders[(r["type"], r["path"])] = FolderRow(
                str(r["id"]), r["type"], r["path"], r["sidecar_hash"], parent, r["index_number"]
            )
    for r in await conn.fetch("SELECT path, size, mtime FROM scan_failures WHERE library_id = $1", library_id):
        state.failures[r["path"]] = (r["size"], r["mtime"])
    return state


async def upsert_folder(conn: asyncpg.Connection, library_id: str, fields: dict[str, Any]) -> tuple[str, bool]:
    """Insert or refresh a series/season row; returns (id, inserted)."""
    row = await conn.fetchrow(_UPSERT_FOLDER, library_id, *(fields.get(c) for c in FOLDER_COLUMNS))
    return str(row["id"]), bool(row["inserted"])


async def relax_commit(conn: asyncpg.Connection) -> None:
    """Inside a transaction: commit without waiting for the WAL flush. Everything the scan writes
    can be derived from the disk again, so a crash that loses the last few commits costs a rescan
    of those files, never an inconsistency — and a scan commits once per file."""
    await conn.execute("SET LOCAL synchronous_commit TO OFF")


async def save_file(
    conn: asyncpg.Connection, library_id: str, item_id: str | None, fields: dict[str, Any], streams: list[StreamInfo]
) -> tuple[str, bool]:
    """Write a media file's row and replace its streams (call inside a transaction).

    With ``item_id`` (a changed or moved file) the row is updated in place and keeps its id; without,
    it is upserted on ``(path, header_hash)``. Returns (id, inserted).
    """
    values = [fields.get(c) for c in MEDIA_COLUMNS]
    row = None
    if item_id is not None:
        row = await conn.fetchrow(_UPDATE_FILE, item_id, *values)
    inserted = False
    if row is None:  # new, or the row vanished meanwhile
        row = await conn.fetchrow(_UPSERT_FILE, library_id, *values)
        inserted = bool(row["inserted"])
    new_id = row["id"]
    known = await conn.fetch(
        "SELECT stream_index, external_path FROM media_streams WHERE item_id = $1 AND is_external", new_id
    )
    streams = stable_sidecar_indexes(streams, {r["external_path"]: r["stream_index"] for r in known})
    await conn.execute("DELETE FROM media_streams WHERE item_id = $1", new_id)
    if streams:
        await conn.copy_records_to_table(
            "media_streams",
            records=[(new_id, *map(row.__getitem__, STREAM_COLUMNS[1:])) for row in (s.row() for s in streams)],
            columns=STREAM_COLUMNS,
        )
    return str(new_id), inserted


def stable_sidecar_indexes(streams: list[StreamInfo], known: dict[str, int]) -> list[StreamInfo]:
    """``streams`` with each sidecar keeping the index it had (``known``: path → index) and new ones
    numbered after every index in use, so a saved subtitle choice still names the same file after a
    sidecar is added or removed."""
    used = {s.index for s in streams if not s.is_external}
    kept: dict[str, int] = {}
    for s in streams:
        old = known.get(s.external_path or "") if s.is_external else None
        if old is not None and old not in used:
            kept[s.external_path or ""] = old
            used.add(old)
    following = max([*used, *known.values(), -1]) + 1
    out = []
    for s in streams:
        if s.is_external:
            index = kept.get(s.external_path or "")
            if index is None:
                index, following = following, following + 1
            s = replace(s, index=index)
        out.append(s)
    return out


async def replace_images(conn: asyncpg.Connection, item_id: str, rows: list[dict[str, Any]]) -> list[str]:
    """Record an item's images (one per kind), dropping kinds it no longer has (call inside a
    transaction). Returns object keys no longer referenced, for the caller to delete from the store."""
    old = await conn.fetch("DELETE FROM images WHERE item_id = $1 RETURNING object_key", item_id)
    if rows:
        await conn.executemany(
            "INSERT INTO images (item_id, kind, object_key, content_type, width, height, source)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [(item_id, r["kind"], r["object_key"], r["content_type"], r["width"], r["height"], r["source"])
             for r in rows],
        )  # fmt: skip
    kept = {r["object_key"] for r in rows}
    return [r["object_key"] for r in old if r["object_key"] not in kept]


async def record_failure(
    conn: Conn, library_id: str, path: str, error: str, size: int | None, mtime: float | None
) -> None:
    """Remember why ``path`` could not be scanned. With its ``size`` and ``mtime`` it is skipped until
    it changes; without (a fault that was not the file's) the next scan tries it again."""
    await conn.execute(
        "INSERT INTO scan_failures (library_id, path, error, size, mtime) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (library_id, path) DO UPDATE SET error = EXCLUDED.error, size = EXCLUDED.size,"
        " mtime = EXCLUDED.mtime, failed_at = now()",
        library_id, path, error[:2000], size, mtime,
    )  # fmt: skip


async def clear_failures(conn: Conn, library_id: str, paths: list[str]) -> None:
    """Forget failures of files that scanned cleanly or are gone."""
    if paths:
        await conn.execute(
            "DELETE FROM scan_failures WHERE library_id = $1 AND path = ANY($2::text[])", library_id, paths
        )


async def remove_items(conn: asyncpg.Connection, ids: list[str]) -> list[str]:
    """Delete items (their children, streams, images and user data go with them by cascade).
    Returns the object keys of every image that went, for the caller to delete from the store."""
    if not ids:
        return []
    async with conn.transaction():
        keys = await conn.fetch(
            "WITH RECURSIVE tree AS (SELECT id FROM media_items WHERE id = ANY($1::uuid[])"
            " UNION SELECT m.id FROM media_items m JOIN tree t ON m.parent_id = t.id)"
            " SELECT object_key FROM images WHERE item_id IN (SELECT id FROM tree)",
            ids,
        )
        await conn.execute("DELETE FROM media_items WHERE id = ANY($1::uuid[])", ids)
    return [r["object_key"] for r in keys]


async def owner_candidates(conn: Conn, library_id: str, folder: str) -> list[asyncpg.Record]:
    """What an extra in or beside ``folder`` may belong to: the films lying in that folder (by path)
    and the series or season row of that folder itself."""
    like = folder.rstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    return await conn.fetch(
        "SELECT id, type, path FROM media_items WHERE library_id = $1 AND ("
        " (type = 'movie' AND path LIKE $2 AND position('/' IN substr(path, length($3) + 2)) = 0)"
        " OR (header_hash IS NULL AND path = $3)) ORDER BY type <> 'movie', path",
        library_id, like, folder.rstrip("/"),
    )  # fmt: skip


async def unlinked_extras(conn: Conn, library_id: str) -> list[asyncpg.Record]:
    """The library's extras whose owner is not known (not found yet, or gone)."""
    return await conn.fetch(
        "SELECT id, path FROM media_items WHERE library_id = $1 AND extra_kind IS NOT NULL AND owner_id IS NULL",
        library_id,
    )


async def link_extra(conn: Conn, extra_id: str, owner_id: str) -> None:
    """Record what an extra belongs to."""
    await conn.execute("UPDATE media_items SET owner_id = $2 WHERE id = $1", extra_id, owner_id)


async def empty_folders(conn: Conn, library_id: str, folder_type: str) -> list[str]:
    """Ids of the library's series or season rows that have no children left."""
    rows = await conn.fetch(
        "SELECT f.id FROM media_items f WHERE f.library_id = $1 AND f.type = $2 AND f.header_hash IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM media_items c WHERE c.parent_id = f.id)",
        library_id, folder_type,
    )  # fmt: skip
    return [str(r["id"]) for r in rows]


async def finish(conn: Conn, library_id: str) -> None:
    """Stamp the library's ``last_scan_at``."""
    await conn.execute("UPDATE libraries SET last_scan_at = now() WHERE id = $1", library_id)
