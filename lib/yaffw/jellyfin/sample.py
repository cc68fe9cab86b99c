"""Jellyfin data directories built from Jellyfin's own table definitions (:mod:`yaffw.jellyfin.ddl`),
for tests and benchmarks: users with password hashes made as Jellyfin makes them, libraries as
virtual folders on disk, items, and user data stored the way each version stores it.

Layout written under ``root`` (Jellyfin's program data folder)::

    data/jellyfin.db, data/library.db (10.10 only)
    root/default/<Library>/{<type>.collection, <n>.mblink, options.xml}
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from yaffw.jellyfin import ddl
from yaffw.jellyfin.read_libraries import COLLECTION_FOLDER
from yaffw.jellyfin.values import TICKS_PER_SECOND, format_date, guid_blob

MOVIE = "MediaBrowser.Controller.Entities.Movies.Movie"
EPISODE = "MediaBrowser.Controller.Entities.TV.Episode"
SEASON = "MediaBrowser.Controller.Entities.TV.Season"
SERIES = "MediaBrowser.Controller.Entities.TV.Series"
PERSON = "MediaBrowser.Controller.Entities.Person"
AUDIO = "MediaBrowser.Controller.Entities.Audio.Audio"
USER_ROOT = "MediaBrowser.Controller.Entities.UserRootFolder"


def jellyfin_hash(password: str, *, method: str = "PBKDF2-SHA512", iterations: int = 210_000) -> str:
    """A hash the way Jellyfin 10.x writes it (``CryptographyProvider`` + ``PasswordHash.ToString``):
    16 random salt bytes, PBKDF2-HMAC-SHA512 with 64 output bytes (SHA1 with 32 for the old
    ``PBKDF2`` id), uppercase hex."""
    salt = secrets.token_bytes(16)
    algorithm, length = ("sha512", 64) if method == "PBKDF2-SHA512" else ("sha1", 32)
    digest = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt, iterations, dklen=length)
    return f"${method}$iterations={iterations}${salt.hex().upper()}${digest.hex().upper()}"


@dataclass(frozen=True)
class SampleUser:
    """A user written by :class:`JellyfinBuilder`."""

    id: uuid.UUID
    internal_id: int
    name: str


class JellyfinBuilder:
    """Writes a Jellyfin data directory of ``version`` ("10.10": library.db + jellyfin.db, "10.11":
    jellyfin.db only). Call :meth:`close` to commit."""

    def __init__(self, root: Path, version: str = "10.10"):
        if version not in ("10.10", "10.11"):
            raise ValueError("version must be 10.10 or 10.11")
        self.root, self.version = root, version
        self.data = root / "data"
        self.views = root / "root" / "default"
        self.data.mkdir(parents=True, exist_ok=True)
        self.views.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.data / "jellyfin.db")
        for statement in ddl.jellyfin_db_statements(version):
            self.db.execute(statement)
        history = ddl.MIGRATIONS_10_11 if version == "10.11" else ddl.MIGRATIONS_10_10
        self.db.executemany('INSERT INTO "__EFMigrationsHistory" VALUES (?, ?)',
                            [(m, "8.0.11" if version == "10.10" else "9.0.9") for m in history])  # fmt: skip
        self.items_db = self.db
        if version == "10.10":
            self.items_db = sqlite3.connect(self.data / "library.db")
            for statement in ddl.library_db_statements():
                self.items_db.execute(statement)
        self._internal = 0
        self._tmdb: dict[uuid.UUID, str] = {}
        self.users: dict[str, SampleUser] = {}
        self.library_ids: dict[str, uuid.UUID] = {}
        self.root_id = self.add_item(USER_ROOT, str(self.views), "Media Folders", folder=True)

    # --- ids and dates the way each file stores them ----------------------------------------------

    def _item_id(self, value: uuid.UUID) -> object:
        return guid_blob(value) if self.version == "10.10" else str(value).upper()

    def _date(self, value: datetime | None, *, library_db: bool) -> str | None:
        return None if value is None else format_date(value, zone=library_db)

    # --- users and libraries ------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        password: str | None,
        *,
        admin: bool = False,
        disabled: bool = False,
        all_libraries: bool = True,
        libraries: Iterable[str] = (),
        password_hash: str | None = None,
        last_login: datetime | None = None,
    ) -> SampleUser:
        """A user with Jellyfin's hash of ``password`` (or ``password_hash`` as given; no password if both
        are None), permissions and the libraries it may see."""
        self._internal += 1
        user = SampleUser(uuid.uuid4(), self._internal, name)
        encoded = password_hash if password_hash is not None else (jellyfin_hash(password) if password else None)
        uid = str(user.id).upper()
        self.db.execute(
            'INSERT INTO "Users" ("Id", "Username", "Password", "MustUpdatePassword", "AuthenticationProviderId", '
            '"PasswordResetProviderId", "InvalidLoginAttemptCount", "LastLoginDate", "SubtitleMode", '
            '"PlayDefaultAudioTrack", "DisplayMissingEpisodes", "DisplayCollectionsView", "EnableLocalPassword", '
            '"HidePlayedInLatest", "RememberAudioSelections", "RememberSubtitleSelections", '
            '"EnableNextEpisodeAutoPlay", "EnableAutoLogin", "EnableUserPreferenceAccess", "InternalId", '
            '"SyncPlayAccess", "RowVersion", "MaxActiveSessions") '
            "VALUES (?, ?, ?, 0, ?, ?, 0, ?, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, ?, 0, 0, 0)",
            (uid, name, encoded, "Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider",
             "Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider",
             self._date(last_login, library_db=False), user.internal_id),
        )  # fmt: skip
        # PermissionKind: 0 IsAdministrator, 1 IsHidden, 2 IsDisabled, 7 EnableMediaPlayback, 16 EnableAllFolders
        for kind, value in ((0, admin), (1, False), (2, disabled), (7, True), (16, all_libraries)):
            self.db.execute('INSERT INTO "Permissions" ("Kind", "Value", "RowVersion", "UserId") VALUES (?, ?, 0, ?)',
                            (kind, int(value), uid))  # fmt: skip
        folders = ",".join(str(self.library_ids[name]) for name in libraries)
        self.db.execute('INSERT INTO "Preferences" ("Kind", "Value", "RowVersion", "UserId") VALUES (5, ?, 0, ?)',
                        (folders, uid))  # fmt: skip
        self.users[name] = user
        return user

    def add_library(self, name: str, collection_type: str | None, paths: Iterable[str]) -> uuid.UUID:
        """A virtual folder (``root/default/<name>``) and its CollectionFolder item."""
        folder = self.views / name
        folder.mkdir(parents=True, exist_ok=True)
        if collection_type:
            (folder / f"{collection_type}.collection").write_bytes(b"")
        infos = []
        for path in paths:
            link = folder / (Path(path).name + ".mblink")
            while link.exists():  # LibraryManager.AddMediaPathInternal appends "1"
                link = link.with_name(link.stem + "1.mblink")
            link.write_text(path)
            infos.append(f"    <MediaPathInfo>\n      <Path>{escape(path)}</Path>\n    </MediaPathInfo>")
        (folder / "options.xml").write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<LibraryOptions xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n'
            "  <Enabled>true</Enabled>\n  <PathInfos>\n" + "\n".join(infos) + "\n  </PathInfos>\n</LibraryOptions>\n"
        )
        item_id = self.add_item(COLLECTION_FOLDER, str(folder), name, folder=True, parent=self.root_id)
        self.library_ids[name] = item_id
        return item_id

    # --- items and user data --------------------------------------------------------------------------

    def add_item(
        self,
        type_name: str,
        path: str | None,
        name: str,
        *,
        folder: bool = False,
        virtual: bool = False,
        parent: uuid.UUID | None = None,
        tmdb: str | None = None,
        item_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """An item; its first user-data key is its Tmdb id when given, else its id (``Video``'s rule)."""
        item_id = item_id or uuid.uuid4()
        self.add_items([(item_id, type_name, path, name, folder, virtual, parent, tmdb)])
        return item_id

    def add_items(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Many items: ``(id, type, path, name, folder, virtual, parent, tmdb)`` tuples."""
        rows = list(rows)
        self._tmdb.update((r[0], r[7]) for r in rows if r[7])
        if self.version == "10.10":
            self.items_db.executemany(
                "INSERT INTO TypedBaseItems (guid, type, data, ParentId, Path, Name, IsFolder, IsVirtualItem, "
                "UserDataKey, ProviderIds, DateCreated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (guid_blob(i), t, json.dumps({"Name": n}).encode(), guid_blob(p) if p else None, path, n,
                     int(f), int(v), tmdb or str(i), f"Tmdb={tmdb}" if tmdb else None, "2024-01-02 03:04:05Z")
                    for i, t, path, n, f, v, p, tmdb in rows
                ),
            )  # fmt: skip
        else:
            self.items_db.executemany(
                'INSERT INTO "BaseItems" ("Id", "Type", "Data", "ParentId", "Path", "Name", "IsFolder", '
                '"IsVirtualItem", "IsMovie", "IsLocked", "IsSeries", "IsRepeat", "IsInMixedFolder") '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0)",
                (
                    (str(i).upper(), t, json.dumps({"Name": n}), str(p).upper() if p else None, path, n, int(f),
                     int(v))
                    for i, t, path, n, f, v, p, _ in rows
                ),
            )  # fmt: skip

    def add_user_data(
        self,
        user: SampleUser,
        item_id: uuid.UUID,
        *,
        played: bool = False,
        play_count: int = 0,
        position_seconds: float = 0.0,
        favorite: bool = False,
        last_played: datetime | None = None,
        audio: int | None = None,
        subtitle: int | None = None,
        keys: Iterable[str] | None = None,
    ) -> None:
        """One user's state for an item, stored under each of ``keys`` as Jellyfin's
        ``UserDataManager.SaveUserData`` does. Default: the item's keys in Jellyfin's order, its Tmdb id
        (if any) then its id (``D`` form in 10.10); 10.11 keys rows by item id, ``N`` form first."""
        self.add_user_data_rows([(user, item_id, played, play_count, position_seconds, favorite, last_played, audio,
                                  subtitle, tuple(keys) if keys is not None else None)])  # fmt: skip

    def add_user_data_rows(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Many rows of ``add_user_data``'s arguments, in its order."""
        out: list[tuple[Any, ...]] = []
        for user, item_id, played, count, position, favorite, last, audio, subtitle, keys in rows:
            ticks = round(position * TICKS_PER_SECOND)
            tmdb = self._tmdb.get(item_id)
            if self.version == "10.10":
                for key in keys or ((tmdb, str(item_id)) if tmdb else (str(item_id),)):
                    out.append((key, user.internal_id, None, int(played), count, int(favorite), ticks,
                                self._date(last, library_db=True), audio, subtitle))  # fmt: skip
            else:
                for key in keys or ((item_id.hex, tmdb) if tmdb else (item_id.hex,)):
                    out.append((str(item_id).upper(), str(user.id).upper(), key, ticks, count, int(favorite),
                                self._date(last, library_db=False), int(played), audio, subtitle))  # fmt: skip
        if self.version == "10.10":
            self.items_db.executemany(
                "INSERT INTO UserDatas (key, userId, rating, played, playCount, isFavorite, playbackPositionTicks, "
                "lastPlayedDate, AudioStreamIndex, SubtitleStreamIndex) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                out,
            )
        else:
            self.items_db.executemany(
                'INSERT INTO "UserData" ("ItemId", "UserId", "CustomDataKey", "PlaybackPositionTicks", "PlayCount", '
                '"IsFavorite", "LastPlayedDate", "Played", "AudioStreamIndex", "SubtitleStreamIndex") '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                out,
            )

    def close(self) -> None:
        """Commit and close the databases."""
        for conn in {id(self.db): self.db, id(self.items_db): self.items_db}.values():
            conn.commit()
            conn.close()
