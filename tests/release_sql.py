"""The previous release's SQL, for the expand-then-contract test (``test_migrations_compat``).

Every complete SQL statement written as a string literal in the previous release's ``lib/`` and
``functions/`` (read with ``git show PREVIOUS_RELEASE:path``) is a statement that release may send
to the database while a newer release's migrations have already run. The list is kept frozen in
``tests/previous_release_sql.json`` (CI may run in a clone without that commit); when the commit is
in the local history a test checks the frozen copy against it.

Regenerate after a release (and bump :data:`PREVIOUS_RELEASE`)::

    PYTHONPATH=lib .venv/bin/python -m tests.release_sql <commit> <admin-dsn>
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "previous_release_sql.json"
# The last landed release before the hardening issue (14) began changing the schema.
PREVIOUS_RELEASE = "19800ed"
# Upper-case keyword then whitespace: SQL, not a docstring that starts with "Delete ...".
_SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\s", re.S)
# These modules read Jellyfin's own SQLite databases, not yaffw's schema.
_FOREIGN = re.compile(r"^lib/yaffw/jellyfin/(detect|read_\w+|sample|source)\.py$")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout


def has_commit(commit: str) -> bool:
    """True when ``commit`` is in this checkout's history (a shallow CI clone may lack it)."""
    return subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT,
                          capture_output=True).returncode == 0  # fmt: skip


def candidates(commit: str) -> list[dict[str, str]]:
    """``{"where": "path:line", "sql": ...}`` for every SQL-looking string literal at ``commit``."""
    found = []
    for path in _git("ls-tree", "-r", "--name-only", commit, "lib", "functions").split():
        if not path.endswith(".py") or _FOREIGN.match(path):
            continue
        tree = ast.parse(_git("show", f"{commit}:{path}"))
        texts = {(node.lineno, node.value) for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)}  # fmt: skip
        texts |= _module_constants(tree)
        found += [{"where": f"{path}:{line}", "sql": text} for line, text in texts if _SQL.match(text)]
    return sorted(found, key=lambda c: (c["where"], c["sql"]))


def _module_constants(tree: ast.Module) -> set[tuple[int, str]]:
    """Module-level string constants built from others (``_UPSERT = f"... {_COLUMNS}"``), evaluated
    with nothing but the earlier constants in scope (no builtins: nothing else can run)."""
    scope: dict[str, object] = {"__builtins__": {}}
    out = set()
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        try:
            result = eval(compile(ast.Expression(node.value), "<sql>", "eval"), scope)
        except Exception:  # names from imports, calls: not a plain constant
            continue
        if isinstance(result, str):
            scope[node.targets[0].id] = result
            out.add((node.lineno, result))
    return out


async def _preparable(dsn: str, items: list[dict[str, str]]) -> list[dict[str, str]]:
    """Those of ``items`` that PostgreSQL parses and plans (the rest are fragments joined at run time)."""
    conn = await asyncpg.connect(dsn)
    kept = []
    try:
        for item in items:
            try:
                await conn.prepare(item["sql"])
            except asyncpg.PostgresError as exc:
                # A fragment ("SELECT " + columns ..., a CTE joined to a WHERE built at run time).
                print(f"skipped {item['where']}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            kept.append(item)
    finally:
        await conn.close()
    return kept


async def freeze(commit: str, admin_dsn: str) -> list[dict[str, str]]:
    """Statements of ``commit`` that plan against ``commit``'s own migrations (a scratch database)."""
    from yaffw.migrations import migrate

    name = f"yaffw_release_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = urlunparse(urlparse(admin_dsn)._replace(path="/" + name))
        with tempfile.TemporaryDirectory() as tmp:
            for path in _git("ls-tree", "-r", "--name-only", commit, "db/migrations").split():
                if path.endswith(".sql"):
                    (Path(tmp) / Path(path).name).write_text(_git("show", f"{commit}:{path}"))
            await migrate(dsn, Path(tmp))
        return await _preparable(dsn, candidates(commit))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def migrations_at(commit: str) -> list[str]:
    """Names of the migration files ``commit`` shipped."""
    return sorted(Path(p).name for p in _git("ls-tree", "-r", "--name-only", commit, "db/migrations").split()
                  if p.endswith(".sql"))  # fmt: skip


def load_snapshot() -> dict:
    """The frozen ``{"commit", "migrations": [names], "statements": [{"where", "sql"}]}``."""
    return json.loads(SNAPSHOT.read_text())


if __name__ == "__main__":
    commit, dsn = sys.argv[1], sys.argv[2]
    statements = asyncio.run(freeze(commit, dsn))
    frozen = {"commit": commit, "migrations": migrations_at(commit), "statements": statements}
    SNAPSHOT.write_text(json.dumps(frozen, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(statements)} statements of {commit} frozen in {SNAPSHOT}")
