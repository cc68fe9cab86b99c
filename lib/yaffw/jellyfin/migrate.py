"""The migration, phase by phase: libraries, users (with their library access), items (matched to
yaffw's by path), user data. Each phase runs in its own transaction; a dry run runs them all inside
one outer transaction (the phases become savepoints, so later phases see earlier ones) and rolls it
back, so the report counts what a real run would do and nothing is written.

Everything that can make the source unusable (missing, corrupt, truncated, locked, wrong version) is
checked by :func:`yaffw.jellyfin.detect.open_sources` before the first write.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg

from yaffw.jellyfin import load
from yaffw.jellyfin.detect import EF, Sources, detect, open_sources
from yaffw.jellyfin.pathmap import PathMap
from yaffw.jellyfin.progress import Progress
from yaffw.jellyfin.read_items import count_items, read_items
from yaffw.jellyfin.read_libraries import KINDS, collection_folder_ids, read_libraries
from yaffw.jellyfin.read_userdata import count_rows, read_userdata
from yaffw.jellyfin.read_users import JellyfinUser, read_users
from yaffw.jellyfin.report import MAX_EXAMPLES, Report

log = logging.getLogger(__name__)

_LOCK_ID = 0x79AFF6  # arbitrary, constant: "yaffw jellyfin migration" (one run at a time)
_PASSWORD_PREFIXES = ("$PBKDF2-SHA512$", "$PBKDF2$", "$PBKDF2-SHA1$", "$PBKDF2-SHA256$")

ProgressFactory = Callable[[str, int], Progress]


async def _prefetch(batches: Iterator[list[Any]]) -> AsyncIterator[list[Any]]:
    """The batches of a blocking reader, the next one read in a worker thread while the caller
    waits on PostgreSQL with this one: reading SQLite and converting rows overlaps the writes.
    (The reader runs in one thread at a time; its skip counts use report keys the caller never
    writes.)"""
    done: list[Any] = []  # a sentinel no reader yields (compared by identity)
    pending = asyncio.ensure_future(asyncio.to_thread(next, batches, done))
    try:
        while (batch := await pending) is not done:
            pending = asyncio.ensure_future(asyncio.to_thread(next, batches, done))
            yield batch
    finally:
        if not pending.done():
            await asyncio.wait([pending])


def _valid_name(name: str, limit: int) -> bool:
    return 1 <= len(name.strip()) <= limit and not any(ord(c) < 32 or c == "\x7f" for c in name)


async def _libraries(
    conn: asyncpg.Connection, src: Sources, paths: PathMap, report: Report
) -> dict[uuid.UUID, uuid.UUID]:
    """Returns CollectionFolder item id -> yaffw library id (users' EnabledFolders refer to those)."""
    phase = report.phase("libraries")
    table, id_col = ("BaseItems", "Id") if src.layout.kind == EF else ("TypedBaseItems", "guid")
    folders = collection_folder_ids(src.items, src.items_path, table, id_col)
    by_folder: dict[uuid.UUID, uuid.UUID] = {}
    if src.layout.root_dir is None:
        phase.notes.append(f"no library folders (root/default) next to {src.layout.data_dir}: none migrated")
    async with conn.transaction():
        for lib in read_libraries(src.layout.root_dir, src.layout.data_dir, folders):
            phase.read += 1
            kind = KINDS.get(lib.collection_type)
            mapped = [paths.apply(p) for p in lib.paths]
            if kind is None:
                phase.skip(f"content type {lib.collection_type} is not served by yaffw")
            elif not mapped:
                phase.skip("library without paths")
            elif not _valid_name(lib.name, 128):
                phase.skip("name not valid in yaffw (1 to 128 characters, no control characters)")
            else:
                outcome = await load.upsert_library(conn, lib.name.strip(), kind, mapped)
                if outcome.written:
                    phase.migrated += 1
                else:
                    phase.unchanged += 1
                if outcome.linked:
                    phase.notes.append(f"{lib.name}: joined the existing yaffw library with that name or path")
                for folder_id in lib.folder_ids:
                    by_folder[folder_id] = outcome.id
    return by_folder


def _password(user: JellyfinUser) -> str:
    if user.password and user.password.startswith(_PASSWORD_PREFIXES):
        return user.password
    return load.NO_PASSWORD


async def _users(
    conn: asyncpg.Connection, src: Sources, libraries: dict[uuid.UUID, uuid.UUID], report: Report
) -> dict[int, str]:
    """Returns Jellyfin InternalId -> Jellyfin user id (what library.db's user data refers to)."""
    phase = report.phase("users")
    internal: dict[int, str] = {}
    all_libraries = sorted(set(libraries.values()))
    grants = 0
    async with conn.transaction():
        for user in read_users(src.users, src.layout.jellyfin_db):
            phase.read += 1
            internal[user.internal_id] = str(user.id)
            if not _valid_name(user.name, 64):
                phase.skip("name not valid in yaffw (1 to 64 characters, no control characters)")
                continue
            encoded = _password(user)
            outcome = await load.upsert_user(conn, user.id, user.internal_id, user.name.strip(), encoded,
                                             user.is_admin, user.is_disabled, user.last_login)  # fmt: skip
            if not outcome.written:
                phase.unchanged += 1
                continue
            phase.migrated += 1
            if outcome.linked:
                phase.notes.append(f"{user.name}: linked to the existing yaffw user (keeps its password and flags)")
            elif encoded == load.NO_PASSWORD:
                phase.notes.append(f"{user.name}: had no usable password in Jellyfin; cannot log in until one is set")
            wanted = all_libraries if user.all_libraries else sorted(
                {libraries[f] for f in user.library_folders if f in libraries}
            )  # fmt: skip
            grants += await load.grant(conn, outcome.id, wanted)
    if grants:
        phase.notes.append(f"{grants} library access grants")
    return internal


async def _items(
    conn: asyncpg.Connection, src: Sources, paths: PathMap, report: Report, progress: ProgressFactory, batch: int
) -> None:
    phase = report.phase("items")
    kind = src.layout.kind
    bar = progress("items", count_items(src.items, src.items_path, kind))
    async with conn.transaction():
        await load.stage_items(conn)
        async for chunk in _prefetch(read_items(src.items, src.items_path, kind, phase.skip, batch)):
            await load.copy_items(conn, chunk, [paths.apply(i.path) for i in chunk])
            bar.advance(batch)
        bar.finish()
        outcome = await load.match_items(conn, MAX_EXAMPLES)
    phase.read = bar.total
    phase.matched, phase.unmatched = outcome.matched, outcome.unmatched
    phase.migrated = outcome.written
    phase.unchanged = outcome.matched + outcome.unmatched - outcome.written
    report.unmatched_examples.extend(outcome.examples)


async def _userdata(
    conn: asyncpg.Connection,
    src: Sources,
    users: dict[int, str],
    report: Report,
    progress: ProgressFactory,
    batch: int,
) -> None:
    phase = report.phase("userdata")
    kind = src.layout.kind
    phase.read = count_rows(src.items, src.items_path, kind)
    bar = progress("userdata", phase.read)
    async with conn.transaction():
        await load.stage_userdata(conn)
        async for chunk in _prefetch(read_userdata(src.items, src.items_path, kind, users, phase.skip, batch)):
            await load.copy_userdata(conn, chunk)
            bar.advance(len(chunk))
        bar.finish()
        outcome = await load.merge_userdata(conn)
    phase.migrated = outcome.written
    phase.unchanged = outcome.unchanged
    for reason, n in (
        ("user was not migrated", outcome.no_user),
        ("item was not migrated (not a video, virtual or without a path)", outcome.item_not_migrated),
        ("item unmatched (no yaffw item at its path)", outcome.item_unmatched),
        ("merged: another Jellyfin item on the same yaffw item", outcome.merged),
    ):
        if n:
            phase.skip(reason, n)


async def run(
    dsn: str,
    data_dir: Path,
    path_map: PathMap,
    *,
    dry_run: bool = False,
    progress: ProgressFactory | None = None,
    batch: int = 5000,
    check: bool = True,
) -> Report:
    """Migrate the Jellyfin server whose data is in ``data_dir`` into the database at ``dsn``.

    :raises SourceError: a Jellyfin file is missing, corrupt, locked or of an unsupported version
        (before anything is written, or, for a read error later, with that phase rolled back).
    """
    started = time.monotonic()
    layout = detect(data_dir)
    sources = open_sources(layout, check=check)
    report = Report(f"Jellyfin {layout.version} ({layout.kind} layout) at {layout.data_dir}", dry_run)
    bars = progress or (lambda label, total: Progress(label, total, enabled=False))
    try:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
            outer = conn.transaction()
            if dry_run:
                await outer.start()
            try:
                libraries = await _libraries(conn, sources, path_map, report)
                users = await _users(conn, sources, libraries, report)
                await _items(conn, sources, path_map, report, bars, batch)
                await _userdata(conn, sources, users, report, bars, batch)
            finally:
                if dry_run:
                    await outer.rollback()
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
        finally:
            await conn.close()
    finally:
        sources.close()
    report.seconds = time.monotonic() - started
    log.info("jellyfin migration done in %.1f s (dry run: %s)", report.seconds, dry_run)
    return report
