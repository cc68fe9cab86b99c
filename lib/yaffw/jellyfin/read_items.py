"""Items with a file or folder path, streamed in batches from ``TypedBaseItems`` (library.db,
10.8–10.10) or ``BaseItems`` (jellyfin.db, 10.11+). Only the columns the matching needs are read;
a cursor is iterated with ``fetchmany``, so a library of any size never sits in memory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from yaffw.jellyfin.detect import EF
from yaffw.jellyfin.source import guard
from yaffw.jellyfin.values import guid_text

# Jellyfin item types that yaffw serves (its movie, series, season, episode and video items).
SERVED = {
    "MediaBrowser.Controller.Entities.Movies.Movie",
    "MediaBrowser.Controller.Entities.TV.Episode",
    "MediaBrowser.Controller.Entities.TV.Season",
    "MediaBrowser.Controller.Entities.TV.Series",
    "MediaBrowser.Controller.Entities.Video",
    "MediaBrowser.Controller.Entities.MusicVideo",
    "MediaBrowser.Controller.Entities.Trailer",
}


@dataclass(frozen=True, slots=True)
class JellyfinItem:
    """An item to match by path."""

    id: str  # the GUID as text (what asyncpg sends as a uuid)
    type: str  # short type name: Movie, Episode, ...
    path: str  # as Jellyfin saw it


def _query(kind: str) -> tuple[str, str]:
    if kind == EF:
        return ('SELECT count(*) FROM "BaseItems"',
                'SELECT "Id", "Type", "Path", "IsVirtualItem" FROM "BaseItems"')  # fmt: skip
    return ('SELECT count(*) FROM "TypedBaseItems"',
            'SELECT "guid", "type", "Path", "IsVirtualItem" FROM "TypedBaseItems"')  # fmt: skip


def count_items(conn: sqlite3.Connection, path: Path, kind: str) -> int:
    """How many item rows there are (for the progress bar)."""
    with guard(path):
        return int(conn.execute(_query(kind)[0]).fetchone()[0])


def read_items(
    conn: sqlite3.Connection, path: Path, kind: str, skip: Callable[..., None], batch: int = 5000
) -> Iterator[list[JellyfinItem]]:
    """Batches of items yaffw could hold; every other row is passed to ``skip`` with a reason.

    :raises SourceError: on a read error, naming ``path``.
    """
    with guard(path):
        cursor = conn.execute(_query(kind)[1])
        while rows := cursor.fetchmany(batch):
            out = []
            for raw_id, type_name, item_path, is_virtual in rows:
                short = (type_name or "?").rsplit(".", 1)[-1]
                item_id = guid_text(raw_id)
                if type_name not in SERVED:
                    skip(f"type {short} is not a video yaffw serves")
                elif item_id is None:
                    skip("unreadable item id")
                elif is_virtual:
                    skip(f"virtual {short} (Jellyfin's placeholder for a missing file)")
                elif not item_path:
                    skip(f"{short} without a path")
                else:
                    out.append(JellyfinItem(item_id, short, item_path))
            yield out
