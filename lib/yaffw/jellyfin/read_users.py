"""Users from ``jellyfin.db`` (the same EF Core tables in every supported version).

Flags come from ``Permissions`` rows (``PermissionKind``: 0 IsAdministrator, 2 IsDisabled,
16 EnableAllFolders); the libraries a user may see, when not all, from the ``Preferences`` row of
kind 5 (EnabledFolders: comma-separated ids of the libraries' CollectionFolder items).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from yaffw.jellyfin.source import guard
from yaffw.jellyfin.values import guid, parse_date

IS_ADMINISTRATOR, IS_DISABLED, ENABLE_ALL_FOLDERS = 0, 2, 16  # Jellyfin.Data.Enums.PermissionKind
ENABLED_FOLDERS = 5  # Jellyfin.Data.Enums.PreferenceKind


@dataclass(frozen=True)
class JellyfinUser:
    """One Jellyfin user as the migration needs it."""

    id: uuid.UUID
    internal_id: int  # what library.db's UserDatas.userId refers to
    name: str
    password: str | None  # $PBKDF2-SHA512$iterations=N$salt$hash, $PBKDF2$... (SHA1), or None
    is_admin: bool
    is_disabled: bool
    all_libraries: bool
    library_folders: frozenset[uuid.UUID]  # CollectionFolder item ids, when not all_libraries
    last_login: datetime | None


def _permissions(conn: sqlite3.Connection) -> dict[uuid.UUID, dict[int, bool]]:
    out: dict[uuid.UUID, dict[int, bool]] = {}
    for user_id, kind, value in conn.execute('SELECT "UserId", "Kind", "Value" FROM "Permissions"'):
        uid = guid(user_id)
        if uid is not None:
            out.setdefault(uid, {})[int(kind)] = bool(value)
    return out


def _folders(conn: sqlite3.Connection) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
    out: dict[uuid.UUID, frozenset[uuid.UUID]] = {}
    rows = conn.execute('SELECT "UserId", "Value" FROM "Preferences" WHERE "Kind" = ?', (ENABLED_FOLDERS,))
    for user_id, value in rows:
        uid = guid(user_id)
        if uid is not None:
            ids = (guid(part) for part in (value or "").split(","))
            out[uid] = frozenset(i for i in ids if i is not None)
    return out


def read_users(conn: sqlite3.Connection, path: Path) -> Iterator[JellyfinUser]:
    """Every user in ``jellyfin.db``, by name. Users are few; permissions are read up front.

    :raises SourceError: on a read error, naming ``path``.
    """
    with guard(path):
        permissions = _permissions(conn)
        folders = _folders(conn)
        rows = conn.execute(
            'SELECT "Id", "InternalId", "Username", "Password", "LastLoginDate" FROM "Users" ORDER BY "Username"'
        ).fetchall()
    for raw_id, internal_id, name, password, last_login in rows:
        uid = guid(raw_id)
        if uid is None:
            continue
        perms = permissions.get(uid, {})
        yield JellyfinUser(
            id=uid,
            internal_id=int(internal_id),
            name=name or "",
            password=password or None,
            is_admin=perms.get(IS_ADMINISTRATOR, False),
            is_disabled=perms.get(IS_DISABLED, False),
            all_libraries=perms.get(ENABLE_ALL_FOLDERS, False),
            library_folders=folders.get(uid, frozenset()),
            last_login=parse_date(last_login),
        )
