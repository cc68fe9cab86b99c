"""Expand-then-contract (db/migrations/README.md): the previous release keeps running while the
newest migrations are applied under it, as happens during a rolling update.

The previous release's statements are frozen in ``tests/previous_release_sql.json`` (see
``tests/release_sql.py``); the session database has every migration of this tree applied.
"""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import pytest
from yaffw.migrations import default_dir

from tests.release_sql import PREVIOUS_RELEASE, freeze, has_commit, load_snapshot

_INSERT = re.compile(r"\bINSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.I)
# What a migration of the next release must not do to what the previous release reads or writes.
_CONTRACTING = re.compile(
    r"\bDROP\s+(TABLE|COLUMN|VIEW|FUNCTION|TYPE|SCHEMA)\b|\bRENAME\b|\bALTER\s+COLUMN\s+\w+\s+(SET\s+DATA\s+)?TYPE\b"
    r"|\bSET\s+NOT\s+NULL\b|\bDROP\s+DEFAULT\b|\bADD\s+COLUMN\b[^;,]*\bNOT\s+NULL\b(?![^;,]*\bDEFAULT\b)",
    re.I,
)


def _statements() -> list[dict[str, str]]:
    return load_snapshot()["statements"]


async def test_previous_release_statements_plan_on_the_newest_schema(pool: asyncpg.Pool) -> None:
    """Every statement parses and plans: no table, column, function or type it names is gone."""
    statements = _statements()
    assert len(statements) > 80  # the extraction found the query modules, not a handful of strings
    broken = []
    async with pool.acquire() as conn:
        for s in statements:
            try:
                await conn.prepare(s["sql"])
            except asyncpg.PostgresError as exc:
                broken.append(f"{s['where']}: {type(exc).__name__}: {exc}")
    assert not broken, "the previous release's SQL no longer runs:\n" + "\n".join(broken)


async def test_previous_release_statements_without_parameters_run(pool: asyncpg.Pool) -> None:
    """Those that need no arguments are executed too (in a transaction rolled back afterwards)."""
    ran = 0
    async with pool.acquire() as conn:
        for s in _statements():
            if re.search(r"\$\d", s["sql"]):
                continue
            tx = conn.transaction()
            await tx.start()
            try:
                await conn.fetch(s["sql"])
                ran += 1
            finally:
                await tx.rollback()
    assert ran >= 5


async def test_previous_release_inserts_fill_every_required_column(pool: asyncpg.Pool) -> None:
    """A column added NOT NULL without a default would make every INSERT of the previous release fail."""
    required = {}
    for row in await pool.fetch(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = 'public' AND is_nullable = 'NO' AND column_default IS NULL
             AND is_identity = 'NO' AND is_generated = 'NEVER'"""
    ):
        required.setdefault(row["table_name"], set()).add(row["column_name"])
    missing = []
    for s in _statements():
        for table, columns in _INSERT.findall(s["sql"]):
            given = {c.strip().strip('"') for c in columns.split(",")}
            if lack := required.get(table, set()) - given:
                missing.append(f"{s['where']}: INSERT INTO {table} lacks {sorted(lack)}")
    assert not missing, "\n".join(missing)


def test_newer_migrations_only_expand() -> None:
    """Migrations newer than the previous release add; dropping or renaming waits a release
    (a line may say ``-- contract: <why the previous release no longer reads it>``)."""
    shipped = set(load_snapshot()["migrations"])
    offending = []
    for path in sorted(default_dir().glob("*.sql")):
        if path.name in shipped:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("--", 1)[0]
            if _CONTRACTING.search(code) and "-- contract:" not in line:
                offending.append(f"{path.name}:{n}: {line.strip()}")
    assert not offending, "contracting change in a new migration (see db/migrations/README.md):\n" + "\n".join(
        offending
    )


def test_readme_states_the_rule() -> None:
    text = (Path(default_dir()) / "README.md").read_text()
    assert "expand" in text.lower() and "contract" in text.lower()


@pytest.mark.skipif(not has_commit(PREVIOUS_RELEASE), reason=f"{PREVIOUS_RELEASE} is not in this clone's history")
async def test_frozen_copy_is_the_previous_release(postgres_admin_dsn: str) -> None:
    """The frozen statements are what ``git show`` of the previous release gives (nothing hand-edited)."""
    snapshot = load_snapshot()
    assert snapshot["commit"] == PREVIOUS_RELEASE
    assert await freeze(PREVIOUS_RELEASE, postgres_admin_dsn) == snapshot["statements"]
