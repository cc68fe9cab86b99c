"""Opening Jellyfin's SQLite files read-only, and the one error every problem with them becomes.

Files are opened with the URI ``file:...?mode=ro``: nothing here can change Jellyfin's data, and a
missing file is an error instead of a new empty database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from yaffw.errors import YaffwError

# How long a reader waits for a lock Jellyfin holds before calling the file locked.
BUSY_TIMEOUT_S = 5.0


class SourceError(YaffwError):
    """A Jellyfin file is missing, unreadable, corrupt, locked or of an unsupported version.
    The message names the file."""

    code = "jellyfin_source"
    status = 400


def explain(path: Path, exc: sqlite3.Error) -> SourceError:
    """A :class:`SourceError` naming ``path`` for an sqlite3 error."""
    text = str(exc)
    low = text.lower()
    if "locked" in low or "busy" in low:
        why = "is locked by another process (stop Jellyfin before migrating)"
    elif "malformed" in low or "not a database" in low or "corrupt" in low or "disk i/o" in low:
        why = f"is corrupt or truncated ({text})"
    elif "unable to open" in low:
        why = f"cannot be opened ({text})"
    else:
        why = f"cannot be read ({text})"
    return SourceError(f"{path}: {why}")


@contextmanager
def guard(path: Path) -> Iterator[None]:
    """Turn sqlite3 errors raised inside the block into a :class:`SourceError` naming ``path``."""
    try:
        yield
    except sqlite3.Error as exc:
        raise explain(path, exc) from exc


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to ``path``, inside a read transaction so every phase sees the same
    snapshot. :raises SourceError: missing, unreadable, locked or not a database."""
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
    with guard(path):
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            conn.close()
            raise
    return conn


def check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """``PRAGMA quick_check``: finds truncation and broken pages before anything is written.
    :raises SourceError: naming ``path``."""
    with guard(path):
        rows = conn.execute("PRAGMA quick_check").fetchall()
    problems = [r[0] for r in rows if r[0] != "ok"]
    if problems:
        raise SourceError(f"{path}: is corrupt or truncated ({'; '.join(problems[:3])})")


def tables(conn: sqlite3.Connection, path: Path) -> set[str]:
    """Names of the tables in the database (lower case)."""
    with guard(path):
        return {r[0].lower() for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(conn: sqlite3.Connection, path: Path, table: str) -> set[str]:
    """Column names of ``table`` (lower case; empty if there is no such table)."""
    with guard(path):
        return {r[1].lower() for r in conn.execute(f'PRAGMA table_info("{table}")')}
