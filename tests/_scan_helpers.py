"""Helpers for the scan tests: libraries made with SQL, a Scanner wired to this run's services, and
an audit hook that sees every file Python opens and every process it starts."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as redis_async
from yaffw.keys import Keys
from yaffw.settings import Settings
from yaffw.storage import S3Store
from yaffw_scan.scanner import Scanner, ScanResult


async def make_library(pool: asyncpg.Pool, name: str, kind: str, paths: list[Path]) -> str:
    """A library row (as the api would create it); returns its id."""
    sql = "INSERT INTO libraries (name, kind, paths) VALUES ($1, $2, $3) RETURNING id"
    return str(await pool.fetchval(sql, name, kind, [str(p) for p in paths]))


def make_store(settings: Settings) -> S3Store:
    """The moto S3 bucket of this run (created if needed)."""
    store = S3Store(settings)
    store.ensure_bucket()
    return store


def make_scanner(pool: asyncpg.Pool, redis: redis_async.Redis, settings: Settings, **kwargs: Any) -> Scanner:
    """A Scanner on this run's database, Redis prefix and S3 bucket."""
    return Scanner(pool, redis, make_store(settings), Keys(settings.redis_prefix), concurrency=2, **kwargs)


async def scan_new_library(pool: asyncpg.Pool, settings: Settings, name: str, root: Path) -> tuple[str, ScanResult]:
    """A movies library of ``root`` (its name made unique), scanned once on a Redis client of its own
    (for module-scoped fixtures, which cannot use the per-test one); its id and the scan's result."""
    library = await make_library(pool, f"{name}-{time.time_ns()}", "movies", [root])
    redis = redis_async.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        [result] = await make_scanner(pool, redis, settings).scan(library)
    finally:
        await redis.aclose()
    return library, result


async def items(pool: asyncpg.Pool, library_id: str) -> dict[str, asyncpg.Record]:
    """The library's items by path."""
    rows = await pool.fetch("SELECT * FROM media_items WHERE library_id = $1", library_id)
    return {r["path"]: r for r in rows}


async def streams(pool: asyncpg.Pool, item_id: Any) -> list[asyncpg.Record]:
    """An item's streams in index order."""
    return await pool.fetch("SELECT * FROM media_streams WHERE item_id = $1 ORDER BY stream_index", item_id)


class OpenRecorder:
    """Records, through a ``sys.addaudithook`` hook, the files opened and processes started."""

    _active: OpenRecorder | None = None
    _installed = False

    def __init__(self, under: Path):
        self.under = str(under)
        self.opened: list[str] = []
        self.processes: list[str] = []

    @classmethod
    def _hook(cls, event: str, args: tuple[Any, ...]) -> None:
        rec = cls._active
        if rec is None:
            return
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0]) if not isinstance(args[0], int) else ""
            if path.startswith(rec.under):
                rec.opened.append(path)
        elif event in ("subprocess.Popen", "os.posix_spawn", "os.exec"):
            rec.processes.append(str(args[0]))


@contextmanager
def record_opens(under: Path) -> Iterator[OpenRecorder]:
    """Collect Python-level opens of files under ``under`` and process starts while active."""
    if not OpenRecorder._installed:
        sys.addaudithook(OpenRecorder._hook)  # hooks cannot be removed; this one is inert when idle
        OpenRecorder._installed = True
    rec = OpenRecorder(under)
    OpenRecorder._active = rec
    try:
        yield rec
    finally:
        OpenRecorder._active = None
