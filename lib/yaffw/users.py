"""User rows shared by the api and the local runner: creating a user and the first admin."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg

from yaffw import passwords
from yaffw.errors import BadInput, Conflict

log = logging.getLogger(__name__)

_ADMIN_LOCK = 0x79AFF4  # arbitrary, constant: "yaffw first admin"

_INSERT = """
INSERT INTO users (name, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING id
"""


def check_name(name: Any) -> str:
    """A valid user name. :raises BadInput: otherwise."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
        raise BadInput("name must be 1 to 64 characters")
    cleaned: str = name.strip()
    if any(ord(c) < 32 or c == "\x7f" for c in cleaned):
        raise BadInput("name must not contain control characters")
    return cleaned


def check_password(password: Any) -> str:
    """A usable password (at least 1, at most 1024 characters). :raises BadInput: otherwise."""
    if not isinstance(password, str) or not 1 <= len(password) <= 1024 or "\x00" in password:
        raise BadInput("password must be 1 to 1024 characters")
    return password


async def hash_password(password: str) -> str:
    """:func:`yaffw.passwords.hash_password` off the event loop (it takes a noticeable fraction of
    a second by design)."""
    return await asyncio.get_running_loop().run_in_executor(None, passwords.hash_password, password)


async def insert(conn: asyncpg.Connection | asyncpg.Pool, name: str, password: str, *, is_admin: bool = False,
                 library_ids: Sequence[str] = ()) -> str:  # fmt: skip
    """Create a user (and their library access); returns the new id.

    :raises BadInput: bad name or password. :raises Conflict: the name is taken (any case).
    """
    name, password = check_name(name), check_password(password)
    encoded = await hash_password(password)
    try:
        if isinstance(conn, asyncpg.Pool):
            async with conn.acquire() as c, c.transaction():
                return await _insert(c, name, encoded, is_admin, library_ids)
        async with conn.transaction():
            return await _insert(conn, name, encoded, is_admin, library_ids)
    except asyncpg.UniqueViolationError as exc:
        raise Conflict(f"a user named {name!r} exists") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise BadInput("library_ids names a library that does not exist") from exc


async def _insert(conn: asyncpg.Connection, name: str, encoded: str, is_admin: bool,
                  library_ids: Sequence[str]) -> str:  # fmt: skip
    user_id = await conn.fetchval(_INSERT, name, encoded, is_admin)
    if library_ids:
        await conn.execute(
            "INSERT INTO library_access (user_id, library_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
            user_id, list(library_ids),
        )  # fmt: skip
    return str(user_id)


async def ensure_admin(pool: asyncpg.Pool, name: str, password: str) -> bool:
    """Create the administrator ``name`` if no administrator exists; True when created here.

    Safe when several replicas start at once: a transaction-scoped advisory lock serialises the
    check and the insert, so exactly one admin is made.
    """
    name, password = check_name(name), check_password(password)
    encoded = await hash_password(password)  # before the lock: keep the critical section short
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _ADMIN_LOCK)
        if await conn.fetchval("SELECT 1 FROM users WHERE is_admin AND NOT is_disabled LIMIT 1"):
            return False
        existing = await conn.fetchval("SELECT id FROM users WHERE lower(name) = lower($1)", name)
        if existing is not None:
            # A non-admin holds the name: promote it rather than fail to start.
            await conn.execute(
                "UPDATE users SET is_admin = true, is_disabled = false, password_hash = $2, updated_at = now() "
                "WHERE id = $1",
                existing, encoded,
            )  # fmt: skip
            log.warning("promoted existing user %s to administrator", name)
            return True
        await conn.fetchval(_INSERT, name, encoded, True)
        log.info("created administrator %s", name)
        return True
