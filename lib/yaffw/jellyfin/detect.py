"""Which Jellyfin layout a data directory holds, and whether its databases can be migrated.

Jellyfin keeps, under its program data directory (``/var/lib/jellyfin``, Docker's ``/config``)::

    data/jellyfin.db        EF Core: Users, Permissions, Preferences (10.6+), and from 10.11 on
                            also BaseItems and UserData
    data/library.db         10.8–10.10 only: TypedBaseItems and UserDatas (renamed library.db.old
                            once 10.11 has moved it into jellyfin.db)
    root/default/<Library>/ one folder per library: *.mblink files holding its paths,
                            <type>.collection naming its content type, options.xml

:func:`detect` looks at files; :func:`open_sources` opens them read-only, runs SQLite's
``quick_check`` and checks every table and column the readers use, so a corrupt, truncated,
locked or wrong-version file fails here, before anything is written.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from yaffw.jellyfin.source import SourceError, check_integrity, columns, guard, open_readonly, tables

LEGACY = "10.8-10.10"  # items and user data in library.db
EF = "10.11+"  # everything in jellyfin.db

# EF Core migration ids (jellyfin.db's __EFMigrationsHistory) that first shipped in each release.
_RELEASES = (
    ("20241020103111_LibraryDbMigration", "10.11"),
    ("20240729140605_AddMediaSegments", "10.10"),
    ("20230526173516_RemoveEasyPassword", "10.9"),
    ("20210814002109_AddDevices", "10.8"),
)

_USERS = {
    "Users": {"id", "username", "password", "internalid", "lastlogindate"},
    "Permissions": {"kind", "value", "userid"},
    "Preferences": {"kind", "value", "userid"},
}
_LEGACY_ITEMS = {
    "TypedBaseItems": {"guid", "type", "path", "name", "isfolder", "isvirtualitem", "userdatakey"},
    "UserDatas": {"key", "userid", "played", "playcount", "isfavorite", "playbackpositionticks", "lastplayeddate",
                  "audiostreamindex", "subtitlestreamindex"},
}  # fmt: skip
_EF_ITEMS = {
    "BaseItems": {"id", "type", "path", "name", "isfolder", "isvirtualitem"},
    "UserData": {"itemid", "userid", "customdatakey", "played", "playcount", "isfavorite", "playbackpositionticks",
                 "lastplayeddate", "audiostreamindex", "subtitlestreamindex"},
}  # fmt: skip


@dataclass(frozen=True)
class Layout:
    """Where a Jellyfin server's data lies and which layout it uses."""

    kind: str  # LEGACY or EF
    data_dir: Path  # Jellyfin's DataPath: the folder holding the .db files
    jellyfin_db: Path
    library_db: Path | None  # LEGACY only
    root_dir: Path | None  # root/default (the libraries), None when absent
    version: str  # "10.10", "10.11", ... from the newest EF Core migration
    last_migration: str


@dataclass
class Sources:
    """Open read-only connections: ``users`` is jellyfin.db; ``items`` holds items and user data
    (library.db for LEGACY, jellyfin.db again for EF)."""

    layout: Layout
    users: sqlite3.Connection
    items: sqlite3.Connection

    @property
    def items_path(self) -> Path:
        """The file ``items`` reads."""
        return self.layout.library_db or self.layout.jellyfin_db

    def close(self) -> None:
        """Close both connections."""
        for conn in {id(self.users): self.users, id(self.items): self.items}.values():
            conn.close()


def _locate(data_dir: Path) -> tuple[Path, Path]:
    """(DataPath, ProgramDataPath) for a folder given as either."""
    if not data_dir.is_dir():
        raise SourceError(f"{data_dir}: not a directory")
    if (data_dir / "data" / "jellyfin.db").exists():
        return data_dir / "data", data_dir
    if (data_dir / "jellyfin.db").exists():
        return data_dir, data_dir.parent
    raise SourceError(f"{data_dir / 'data' / 'jellyfin.db'}: file not found (nor {data_dir / 'jellyfin.db'})")


def _release(last_migration: str) -> str | None:
    for first, release in _RELEASES:
        if last_migration >= first:
            return release
    return None


def _require(conn: sqlite3.Connection, path: Path, wanted: dict[str, set[str]], version: str) -> None:
    have = tables(conn, path)
    for table, cols in wanted.items():
        if table.lower() not in have:
            raise SourceError(f"{path}: has no {table} table; not a Jellyfin {version} database")
        missing = cols - columns(conn, path, table)
        if missing:
            raise SourceError(
                f"{path}: table {table} lacks column(s) {', '.join(sorted(missing))}; "
                f"this Jellyfin version is not supported (10.8 to 10.11 are)"
            )


def detect(data_dir: Path) -> Layout:
    """The layout of the Jellyfin data in ``data_dir`` (the program data folder or its ``data``).

    :raises SourceError: naming the file that is missing, unreadable or of an unsupported version.
    """
    data_path, program_path = _locate(data_dir)
    jellyfin_db = data_path / "jellyfin.db"
    conn = open_readonly(jellyfin_db)
    try:
        have = tables(conn, jellyfin_db)
        if "users" not in have:
            raise SourceError(
                f"{jellyfin_db}: has no Users table; Jellyfin before 10.6 is not supported (upgrade to 10.8 or later)"
            )
        last = ""
        if "__efmigrationshistory" in have:
            with guard(jellyfin_db):
                row = conn.execute('SELECT max("MigrationId") FROM "__EFMigrationsHistory"').fetchone()
            last = row[0] or ""
        release = _release(last)
        if release is None:
            raise SourceError(
                f"{jellyfin_db}: written by Jellyfin older than 10.8 (newest migration {last or 'none'}); "
                "upgrade Jellyfin to 10.8 or later and start it once, then migrate"
            )
        kind = EF if "baseitems" in have else LEGACY
    finally:
        conn.close()
    library_db = None
    if kind == LEGACY:
        library_db = data_path / "library.db"
        if not library_db.is_file():
            raise SourceError(f"{library_db}: file not found (Jellyfin {release} keeps its items there)")
    root = program_path / "root" / "default"
    return Layout(kind, data_path, jellyfin_db, library_db, root if root.is_dir() else None, release, last)


def open_sources(layout: Layout, *, check: bool = True) -> Sources:
    """Open the layout's databases read-only, check their integrity (``check``) and schema.

    :raises SourceError: naming the corrupt, truncated, locked or wrong-version file.
    """
    users = open_readonly(layout.jellyfin_db)
    items = users
    try:
        if check:
            check_integrity(users, layout.jellyfin_db)
        _require(users, layout.jellyfin_db, _USERS, layout.version)
        if layout.kind == EF:
            _require(users, layout.jellyfin_db, _EF_ITEMS, layout.version)
        else:
            assert layout.library_db is not None
            items = open_readonly(layout.library_db)
            if check:
                check_integrity(items, layout.library_db)
            _require(items, layout.library_db, _LEGACY_ITEMS, layout.version)
    except BaseException:
        users.close()
        if items is not users:
            items.close()
        raise
    return Sources(layout, users, items)
