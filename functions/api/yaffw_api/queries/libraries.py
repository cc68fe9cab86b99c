"""SQL for ``libraries``. A library dict: ``id, name, kind, paths, created_at, last_scan_at,
item_count`` (top-level items); ``paths`` only for admins (they are server paths).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from yaffw.errors import BadInput, Conflict, NotFound

from yaffw_api.auth import User
from yaffw_api.queries._rows import Conn, clean_text, parse_id, row_dict

KINDS = ("movies", "shows", "mixed")
MAX_PATHS = 32

_SELECT = """
SELECT l.id, l.name, l.kind, l.paths, l.created_at, l.last_scan_at,
       (SELECT count(*) FROM media_items i WHERE i.library_id = l.id AND i.parent_id IS NULL
        AND i.film_id IS NULL AND i.extra_kind IS NULL) AS item_count
FROM libraries l
WHERE ($1::bool OR EXISTS (SELECT 1 FROM library_access a WHERE a.library_id = l.id AND a.user_id = $2::uuid))
"""


def _library(row: asyncpg.Record, user: User) -> dict[str, Any]:
    out = row_dict(row)
    if not user.is_admin:
        out.pop("paths")
    return out


async def list_visible(conn: Conn, user: User) -> list[dict[str, Any]]:
    """The libraries ``user`` may see, by name."""
    rows = await conn.fetch(_SELECT + " ORDER BY lower(l.name), l.id", user.is_admin, user.id)
    return [_library(r, user) for r in rows]


async def get(conn: Conn, user: User, library_id: str) -> dict[str, Any]:
    """One library. :raises NotFound: absent, invisible or a malformed id."""
    library_id = parse_id(library_id, "library")
    row = await conn.fetchrow(_SELECT + " AND l.id = $3::uuid", user.is_admin, user.id, library_id)
    if row is None:
        raise NotFound("library not found")
    return _library(row, user)


def clean_paths(paths: Any, media_roots: Sequence[Path] = ()) -> list[str]:
    """Normalised absolute library paths. When ``media_roots`` is set (``YAFFW_MEDIA_ROOTS``),
    each path must lie inside one of them.

    :raises BadInput: naming what is wrong.
    """
    if not isinstance(paths, list) or not paths:
        raise BadInput("paths must be a non-empty list of absolute paths")
    if len(paths) > MAX_PATHS:
        raise BadInput(f"at most {MAX_PATHS} paths")
    out: list[str] = []
    for raw in paths:
        path = clean_text(raw, "paths[]", max_len=4096)
        if not path.startswith("/"):
            raise BadInput(f"{path!r} is not an absolute path")
        # normpath folds "..", so a path cannot climb out of a media root it names.
        norm = os.path.normpath(path)
        if media_roots and not any(is_under(norm, str(root)) for root in media_roots):
            raise BadInput(f"{norm!r} is not inside the configured media roots")
        if norm not in out:
            out.append(norm)
    return out


def is_under(path: str, root: str) -> bool:
    """True when normalised ``path`` is ``root`` or inside it (component-wise, not by prefix)."""
    path, root = os.path.normpath(path), os.path.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


async def create(conn: Conn, name: Any, kind: Any, paths: Any,
                 media_roots: Sequence[Path] = ()) -> dict[str, Any]:  # fmt: skip
    """A new library (admins see it at once; grant others through users' ``library_ids``).

    :raises BadInput: bad name, kind or paths. :raises Conflict: the name is taken.
    """
    name = clean_text(name, "name", max_len=128).strip()
    if kind not in KINDS:
        raise BadInput(f"kind must be one of {', '.join(KINDS)}")
    clean = clean_paths(paths, media_roots)
    try:
        row = await conn.fetchrow(
            "INSERT INTO libraries (name, kind, paths) VALUES ($1, $2, $3) RETURNING id", name, kind, clean
        )
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"a library named {name!r} exists") from exc
    assert row is not None
    out = await conn.fetchrow(_SELECT + " AND l.id = $3::uuid", True, None, row["id"])
    assert out is not None
    return row_dict(out)


async def scan_path(conn: Conn, library_id: str, path: Any | None) -> tuple[dict[str, Any], str | None]:
    """The library and the subtree to scan (``None``: all of it), for a scan request.

    :raises NotFound: unknown library. :raises BadInput: ``path`` is not inside one of its paths.
    """
    library_id = parse_id(library_id, "library")
    row = await conn.fetchrow("SELECT id, name, kind, paths FROM libraries WHERE id = $1::uuid", library_id)
    if row is None:
        raise NotFound("library not found")
    if path is None:
        return row_dict(row), None
    text = clean_text(path, "path", max_len=4096)
    if not text.startswith("/"):
        raise BadInput("path must be absolute")
    norm = os.path.normpath(text)
    if not any(is_under(norm, root) for root in row["paths"]):
        raise BadInput("path is not inside the library's paths")
    return row_dict(row), norm
