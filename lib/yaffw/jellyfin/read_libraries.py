"""Libraries ("virtual folders") from ``root/default/<Library>/`` and the items database.

Jellyfin 10.x (``LibraryManager.GetVirtualFolders``) names a library after its folder, reads its
paths from the ``*.mblink`` files in it (each holds one path; ``%AppDataPath%`` stands for the data
folder) and its content type from an empty ``<type>.collection`` file. When a folder has no
``.mblink`` files the paths listed in its ``options.xml`` (``PathInfos/MediaPathInfo/Path``) are used.
The library's CollectionFolder item (type ``...CollectionFolder``, path = the library folder) gives
the id that users' EnabledFolders preferences refer to.
"""

from __future__ import annotations

import sqlite3
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from yaffw.jellyfin.source import guard
from yaffw.jellyfin.values import guid

COLLECTION_FOLDER = "MediaBrowser.Controller.Entities.CollectionFolder"

# Jellyfin's CollectionTypeOptions -> yaffw's library kind; None: yaffw does not serve that content.
KINDS = {
    "movies": "movies",
    "tvshows": "shows",
    "mixed": "mixed",
    "homevideos": "mixed",
    "musicvideos": "mixed",
    "": "mixed",  # no .collection file: Jellyfin's "mixed content"
    "music": None,
    "books": None,
    "boxsets": None,
    "playlists": None,
    "photos": None,
}


@dataclass(frozen=True)
class JellyfinLibrary:
    """One virtual folder."""

    name: str
    collection_type: str  # "" when none is set
    paths: tuple[str, ...]  # as Jellyfin saw them, before --path-map
    folder_ids: frozenset[uuid.UUID]  # its CollectionFolder item id(s)


def _collection_type(folder: Path) -> str:
    for f in sorted(folder.glob("*.collection")):
        if f.stem.lower() in KINDS:
            return f.stem.lower()
    return ""


def _paths(folder: Path, data_dir: Path) -> tuple[str, ...]:
    paths = []
    for link in sorted(folder.iterdir()):
        if link.suffix.lower() == ".mblink" and link.is_file():
            target = link.read_text(encoding="utf-8-sig").strip()
            target = target.replace("%AppDataPath%", str(data_dir))
            if target:
                paths.append(target.rstrip("/\\") or target)
    if not paths and (folder / "options.xml").is_file():
        try:
            tree = ET.parse(folder / "options.xml")
        except ET.ParseError:
            return ()
        for node in tree.getroot().iterfind("./PathInfos/MediaPathInfo/Path"):
            if node.text and node.text.strip():
                paths.append(node.text.strip().rstrip("/\\") or node.text.strip())
    return tuple(dict.fromkeys(paths))


def _folder_name(path: str) -> str:
    return (PureWindowsPath(path) if "\\" in path else Path(path)).name.lower()


# Library folder name (lower case) -> ids of its CollectionFolder items.
FolderIds = dict[str, set[uuid.UUID]]


def collection_folder_ids(
    conn: sqlite3.Connection, db_path: Path, table: str, id_col: str
) -> dict[str, set[uuid.UUID]]:
    """Library folder name (lower case) -> ids of its CollectionFolder items."""
    out: dict[str, set[uuid.UUID]] = {}
    with guard(db_path):
        rows = conn.execute(f'SELECT "{id_col}", "Path" FROM "{table}" WHERE "Type" = ?', (COLLECTION_FOLDER,))
        for raw_id, path in rows:
            item_id = guid(raw_id)
            if item_id is not None and path:
                out.setdefault(_folder_name(path), set()).add(item_id)
    return out


def read_libraries(
    root: Path | None, data_dir: Path, folder_ids: dict[str, set[uuid.UUID]]
) -> Iterator[JellyfinLibrary]:
    """The libraries under ``root`` (``root/default``), by name; nothing when ``root`` is None."""
    if root is None:
        return
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        yield JellyfinLibrary(
            name=folder.name,
            collection_type=_collection_type(folder),
            paths=_paths(folder, data_dir),
            folder_ids=frozenset(folder_ids.get(folder.name.lower(), ())),
        )
