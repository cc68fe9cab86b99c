"""SQL for an item's extras (trailers, featurettes, behind the scenes...: rows with ``extra_kind`` whose
``owner_id`` is the item). Extras are never library items of their own; they are listed here, on
their owner's page."""

from __future__ import annotations

from typing import Any

from yaffw_api.access import visible_library_ids
from yaffw_api.auth import User
from yaffw_api.queries._rows import Conn, parse_id, row_dict

# The order extras are shown in: trailers first, then the rest as Jellyfin's extras tab has them.
KIND_ORDER = ("trailer", "featurette", "behind_the_scenes", "deleted_scene", "interview", "scene", "short", "clip",
              "extra", "theme_video")  # fmt: skip
LABELS = {
    "trailer": "Trailer", "featurette": "Featurette", "behind_the_scenes": "Behind the scenes",
    "deleted_scene": "Deleted scene", "interview": "Interview", "scene": "Scene", "short": "Short", "clip": "Clip",
    "extra": "Extra", "theme_video": "Theme video",
}  # fmt: skip

_EXTRAS = """
SELECT i.id, i.name, i.extra_kind, i.duration_seconds
FROM media_items i
WHERE i.owner_id = $1::uuid AND i.extra_kind IS NOT NULL AND i.library_id = ANY($2::uuid[])
ORDER BY array_position($3::text[], i.extra_kind), i.sort_name, i.id
LIMIT 200
"""


async def for_item(conn: Conn, user: User, item_id: str) -> list[dict[str, Any]]:
    """The extras of ``item_id`` the caller may see: ``id, name, extra_kind, kind_label, duration_seconds``."""
    visible = await visible_library_ids(conn, user)
    rows = await conn.fetch(_EXTRAS, parse_id(item_id), visible, list(KIND_ORDER))
    return [{**row_dict(r), "kind_label": LABELS.get(r["extra_kind"], "Extra")} for r in rows]
