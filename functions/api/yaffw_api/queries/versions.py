"""SQL for a film's versions and parts (issue 16, migration 0011).

A film with versions (``Film - 1080p``, ``Film - Director's Cut``) is one item: the row of its main
version, and rows of type ``video`` pointing at it (``film_id``) for the others. A film in parts is
the row of part 1 and rows for parts 2, 3... (``part_number``). The player picks a version
(:func:`yaffw.media.decision.pick_source`); parts always play joined, through a transcode.
"""

from __future__ import annotations

import os
from typing import Any

from yaffw_api.queries._rows import Conn, row_dict

_VERSIONS = """
SELECT i.id, i.name, i.type, i.path, i.container, i.bitrate, i.duration_seconds, i.size, i.mtime, i.library_id,
       i.version_label
FROM media_items i
WHERE i.film_id = $1::uuid AND i.part_number IS NULL AND i.extra_kind IS NULL
ORDER BY i.version_label, i.path
"""
_LABEL = "SELECT version_label FROM media_items WHERE id = $1::uuid"
_STREAMS = "SELECT * FROM media_streams WHERE item_id = ANY($1::uuid[]) ORDER BY item_id, stream_index"
# $1 is a version (not a part) of film $2.
VERSION_OF = (
    "SELECT true FROM media_items WHERE id = $1::uuid AND film_id = $2::uuid AND part_number IS NULL"
    " AND extra_kind IS NULL"
)
PART_COUNT = "(SELECT 1 + count(*) FROM media_items p WHERE p.film_id = i.id AND p.part_number IS NOT NULL)"


def label(row: dict[str, Any], streams: list[dict[str, Any]]) -> str:
    """How a version is named in menus: its label (``1080p``, ``Director's Cut``), else its picture
    height, else its file name."""
    if row.get("version_label"):
        return str(row["version_label"])
    heights = [s.get("height") for s in streams if s.get("type") == "video" and s.get("height")]
    if heights:
        return f"{max(heights)}p"
    return os.path.splitext(os.path.basename(row.get("path") or ""))[0] or str(row.get("name") or "Version")


async def versions(conn: Conn, item: dict[str, Any], streams: list[dict[str, Any]]
                   ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:  # fmt: skip
    """The film's versions, each a ``media_items`` row (dict) and its ``media_streams`` rows: ``item``
    itself (with ``streams``) first, then its other versions. Just ``item`` for a film with one
    file (or in parts)."""
    rows = [row_dict(r) for r in await conn.fetch(_VERSIONS, item["id"])]
    if not rows:
        return [(item, streams)]
    if "version_label" not in item:
        item = {**item, "version_label": await conn.fetchval(_LABEL, item["id"])}
    by_item: dict[str, list[dict[str, Any]]] = {str(r["id"]): [] for r in rows}
    for s in await conn.fetch(_STREAMS, [r["id"] for r in rows]):
        by_item[str(s["item_id"])].append(dict(s))
    return [(item, streams), *((r, by_item[str(r["id"])]) for r in rows)]


def menu(sources: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """The versions as the item page and the player list them: ``id``, ``label``, ``duration_seconds``."""
    return [{"id": str(row["id"]), "label": label(row, streams), "duration_seconds": row.get("duration_seconds")}
            for row, streams in sources]  # fmt: skip
