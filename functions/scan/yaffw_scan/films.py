"""Parts and versions of one film become one item (issue 16; migration 0011).

A film split over files (``Film - cd1``, ``Film - cd2``) or kept in several versions (``Film - 1080p``,
``Film - Director's Cut``) is one item: the row of one of its files (part 1, or the main version) is
the film, every other file's row points at it (``film_id``), is of type ``video`` (never listed) and
keeps its own streams, so the scan still follows it and the player can pick it.

After the pass has read its files, :func:`regroup` looks again at every film file in the folders the
pass touched (files read, moved or gone): it joins, splits and re-points rows so they match the
names, and moves watch state onto the film item, so a file that becomes a part or a version keeps
its history there (the latest position and played state win, favourites are kept). A version with
parts (``Film - 1080p - cd1``) is not joined: out of scope, its files stay films of their own.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import asyncpg

from yaffw_scan import register
from yaffw_scan.identify import identify
from yaffw_scan.register import Library
from yaffw_scan.walk import is_within

log = logging.getLogger(__name__)


@dataclass(slots=True)
class FilmFile:
    """A film file's row as :func:`regroup` sees it, and what its name says."""

    id: str
    path: str
    type: str
    film_id: str | None
    part_number: int | None
    version_label: str | None
    duration: float | None
    file_duration: float | None
    date_added: Any
    is_film: bool  # read as a film (not an episode or an extra)
    key: tuple[str, str, int | None] | None = None  # (folder, name, year): one film's files share it
    part: int | None = None  # what the name says
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a file belongs: ``film_id`` None for the film item itself (or a film of its own)."""

    id: str
    film_id: str | None
    part_number: int | None
    version_label: str | None
    duration: float | None
    type: str | None  # 'movie' (a film), 'video' (a part or version); None: leave (episode, extra)


def _alone(f: FilmFile) -> Placement:
    return Placement(f.id, None, None, None, f.file_duration, "movie" if f.is_film else None)


def _main_version(files: list[FilmFile]) -> FilmFile:
    """The film among versions: the one the others already point at (so the item and its history
    stay), else one named like the film itself, else the first by name."""
    pointed = [f for f in files if f.film_id is None and any(g.film_id == f.id for g in files)]
    if pointed:
        return pointed[0]
    return min(files, key=lambda f: (f.version is not None, f.path))


def place(files: Iterable[FilmFile]) -> list[Placement]:
    """Where each of ``files`` (the film files of some folders, their ``key``/``part``/``version``
    read from their names) belongs. Pure."""
    groups: dict[tuple[str, str, int | None], list[FilmFile]] = defaultdict(list)
    out: list[Placement] = []
    for f in files:
        if f.key is None or not f.is_film:
            out.append(_alone(f))
        else:
            groups[f.key].append(f)
    for members in groups.values():
        parts = sorted((f for f in members if f.part is not None), key=lambda f: (f.part or 0, f.path))
        numbers = [f.part for f in parts]
        rest = [f for f in members if f.part is None]
        if len(parts) >= 2 and len(set(numbers)) == len(numbers) and not rest:
            film = parts[0]
            total = sum(f.file_duration or 0.0 for f in parts) or None
            for f in parts:
                own = f is film
                out.append(Placement(f.id, None if own else film.id, f.part, None,
                                     total if own else f.file_duration, "movie" if own else "video"))  # fmt: skip
        elif len(rest) >= 2 and not parts:
            film = _main_version(rest)
            for f in rest:
                own = f is film
                out.append(Placement(f.id, None if own else film.id, None, f.version, f.file_duration,
                                     "movie" if own else "video"))  # fmt: skip
        else:  # one file, or parts mixed with versions (not joined)
            out.extend(_alone(f) for f in members)
    return out


_LOAD = """
SELECT id, type, path, film_id, part_number, version_label, duration_seconds, file_duration_seconds, date_added,
       extra_kind
FROM media_items
WHERE library_id = $1 AND header_hash IS NOT NULL
  AND ((type IN ('movie', 'video') AND extra_kind IS NULL) OR film_id IS NOT NULL)
"""
# Watch state of an absorbed file onto its film: the latest position and played state win, a
# favourite stays one, counts and dates keep the larger. A part's position is moved past the parts
# before it ($3), so "20 minutes into cd2" resumes there in the joined film.
_MERGE_USER_DATA = """
WITH moved AS (
    DELETE FROM user_item_data WHERE item_id = $1 RETURNING *
)
INSERT INTO user_item_data (user_id, item_id, played, play_count, position_seconds, is_favorite, last_played_at,
                            audio_stream_index, subtitle_stream_index, updated_at)
SELECT user_id, $2, played, play_count, CASE WHEN position_seconds > 0 THEN position_seconds + $3 ELSE 0 END,
       is_favorite, last_played_at, NULL, NULL, updated_at
FROM moved
ON CONFLICT (user_id, item_id) DO UPDATE SET
    played = CASE WHEN EXCLUDED.updated_at > user_item_data.updated_at
                  THEN EXCLUDED.played ELSE user_item_data.played END,
    position_seconds = CASE WHEN EXCLUDED.updated_at > user_item_data.updated_at
                            THEN EXCLUDED.position_seconds ELSE user_item_data.position_seconds END,
    play_count = GREATEST(user_item_data.play_count, EXCLUDED.play_count),
    is_favorite = user_item_data.is_favorite OR EXCLUDED.is_favorite,
    last_played_at = GREATEST(user_item_data.last_played_at, EXCLUDED.last_played_at),
    updated_at = GREATEST(user_item_data.updated_at, EXCLUDED.updated_at)
"""


async def merge_into(conn: asyncpg.Connection, absorbed: str, film: str, offset: float = 0.0) -> None:
    """Move what hangs on ``absorbed`` (watch state, extras, migrated Jellyfin ids) onto ``film``."""
    await conn.execute(_MERGE_USER_DATA, absorbed, film, offset)
    await conn.execute("UPDATE media_items SET owner_id = $2 WHERE owner_id = $1", absorbed, film)
    await conn.execute("UPDATE jellyfin_items SET item_id = $2 WHERE item_id = $1", absorbed, film)


def _read(row: asyncpg.Record, library: Library) -> FilmFile:
    f = FilmFile(
        str(row["id"]), row["path"], row["type"], str(row["film_id"]) if row["film_id"] else None,
        row["part_number"], row["version_label"], row["duration_seconds"],
        row["file_duration_seconds"] if row["file_duration_seconds"] is not None else row["duration_seconds"],
        row["date_added"], is_film=row["type"] in ("movie", "video") and row["extra_kind"] is None,
    )  # fmt: skip
    if f.is_film:
        root = next((r for r in library.paths if is_within(f.path, r)), None)
        guess = identify(f.path, root=root, kind=library.kind)
        if guess.type != "movie":
            f.is_film = False  # read as an episode or an extra since: its row is rewritten already
        else:
            f.key = (os.path.dirname(f.path), (guess.name or "").casefold(), guess.year)
            f.part, f.version = guess.part, guess.version
    return f


async def regroup(pool: asyncpg.Pool, library: Library, folders: set[str], departing: set[str]) -> int:
    """Join, split and re-point the film files of ``folders`` (see the module's docstring).

    ``departing`` are rows whose files are gone (removed after this): they are not placed, but the
    watch state of a film that goes while its other parts or versions stay moves to the new film.
    Returns how many rows changed.
    """
    if not folders:
        return 0
    rows = await pool.fetch(_LOAD, library.id)
    chosen = [r for r in rows if os.path.dirname(r["path"]) in folders]
    files = [_read(r, library) for r in chosen]
    present = [f for f in files if f.id not in departing]
    placements = place(present)
    by_id = {f.id: f for f in present}
    changed = 0
    async with pool.acquire() as conn, conn.transaction():
        await register.relax_commit(conn)
        for p in placements:
            f = by_id[p.id]
            film = p.film_id or p.id
            if p.film_id is not None:
                # Only a part's own progress moves past the parts before it.
                offset = 0.0
                if p.part_number is not None:
                    offset = sum(g.file_duration or 0.0 for g in present
                                 if g.key == f.key and g.part is not None and g.part < p.part_number)  # fmt: skip
                await merge_into(conn, p.id, film, offset)
            if f.film_id is not None and f.film_id != film and f.film_id in departing:
                await merge_into(conn, f.film_id, film)  # the film's file went; its history stays on the item
            current = (f.film_id, f.part_number, f.version_label, f.duration, f.type)
            wanted = (p.film_id, p.part_number, p.version_label, p.duration, p.type or f.type)
            if current != wanted:
                await conn.execute(
                    "UPDATE media_items SET film_id = $2, part_number = $3, version_label = $4,"
                    " duration_seconds = $5, type = $6, date_modified = now() WHERE id = $1",
                    p.id, p.film_id, p.part_number, p.version_label, p.duration, p.type or f.type,
                )  # fmt: skip
                changed += 1
    if changed:
        log.info("library %s: %d film files joined or split", library.id, changed)
    return changed
