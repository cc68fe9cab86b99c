"""Forward-only SQL migrations: ``db/migrations/NNNN_name.sql`` applied in order, each in its own
transaction together with its record. An advisory lock makes concurrent runners (several replicas
starting at once) apply each file exactly once.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

_LOCK_ID = 0x79AFF3  # arbitrary, constant: "yaffw migrations"
_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")


def default_dir() -> Path:
    """The repository's ``db/migrations`` (the package is installed from the repository)."""
    return Path(__file__).resolve().parents[2] / "db" / "migrations"


def pending_files(directory: Path) -> list[Path]:
    """Migration files in apply order. :raises ValueError: on a badly named file."""
    files = sorted(directory.glob("*.sql"))
    for f in files:
        if not _NAME.match(f.name):
            raise ValueError(f"migration file {f.name} is not named NNNN_name.sql")
    return files


async def migrate(dsn: str, directory: Path | None = None) -> list[str]:
    """Apply pending migrations; returns the names applied by this call (empty if none)."""
    files = pending_files(directory or default_dir())
    conn = await asyncpg.connect(dsn)
    try:
        # Session-level lock: the second runner waits here, then finds nothing left to do.
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            applied: list[str] = []
            for f in files:
                if f.name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(f.read_text())
                    await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", f.name)
                log.info("applied migration %s", f.name)
                applied.append(f.name)
            return applied
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
    finally:
        await conn.close()
