"""Migrations: applied in order, recorded, idempotent, and safe with concurrent runners."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest
from yaffw.migrations import default_dir, migrate


@pytest.fixture
async def empty_database(postgres_admin_dsn: str) -> AsyncIterator[str]:
    name = f"yaffw_mig_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres_admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(postgres_admin_dsn)._replace(path="/" + name))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _schema(dsn: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
        )
        return [(r[0], r[1]) for r in rows]
    finally:
        await conn.close()


async def test_applied_twice_changes_nothing(empty_database: str) -> None:
    first = await migrate(empty_database)
    assert first == sorted(p.name for p in default_dir().glob("*.sql"))
    schema = await _schema(empty_database)
    assert await migrate(empty_database) == []
    assert await _schema(empty_database) == schema


async def test_concurrent_runners_apply_each_migration_once(empty_database: str) -> None:
    results = await asyncio.gather(*(migrate(empty_database) for _ in range(4)))
    applied = [name for r in results for name in r]
    assert sorted(applied) == sorted(p.name for p in default_dir().glob("*.sql"))
    conn = await asyncpg.connect(empty_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(applied)
    finally:
        await conn.close()


async def test_schema_enforces_the_contract(pool: asyncpg.Pool) -> None:
    lib = await pool.fetchval(
        "INSERT INTO libraries (name, kind, paths) VALUES ($1, 'movies', '{/m}') RETURNING id", uuid.uuid4().hex
    )
    insert = (
        "INSERT INTO media_items (library_id, type, name, sort_name, path, header_hash)"
        " VALUES ($1, 'movie', 'a', 'a', $2, $3)"
    )
    await pool.execute(insert, lib, "/m/a.mkv", "h1")
    with pytest.raises(asyncpg.UniqueViolationError):
        await pool.execute(insert, lib, "/m/a.mkv", "h1")
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute(
            "INSERT INTO media_items (library_id, type, name, sort_name) VALUES ($1, 'podcast', 'x', 'x')", lib
        )
    # The activity log takes rows for this month (its partition exists) and is partitioned.
    await pool.execute("INSERT INTO activity_log (type, message) VALUES ('test', 'hello')")
    parts = await pool.fetchval(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'activity_log'"
    )
    assert parts >= 2
    await pool.execute("DELETE FROM libraries WHERE id = $1", lib)
    assert await pool.fetchval("SELECT count(*) FROM media_items WHERE library_id = $1", lib) == 0
