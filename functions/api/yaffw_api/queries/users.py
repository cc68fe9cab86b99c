"""SQL for ``users`` and ``library_access``. A user dict: ``id, name, is_admin, is_disabled,
created_at, updated_at, last_login_at, library_ids`` (admins see every library whatever it says),
``max_sessions, max_transcodes`` (the user's playback limits, ``None``: the server's defaults),
``audio_languages`` (preferred audio languages, ISO 639-2/T).

Changes that must end the user's sessions (password, disabling, deletion) are reported to the
caller, which revokes the tokens in Redis: see ``yaffw_api.accounts``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from yaffw import users as shared
from yaffw.errors import BadInput, Conflict, NotFound

from yaffw_api.queries._rows import Conn, parse_id, row_dict

EDITABLE = ("name", "password", "is_admin", "is_disabled", "library_ids", "max_sessions", "max_transcodes")
# Per-user limits (``yaffw.user_limits``): column -> smallest allowed value (NULL: the setting).
LIMITS = {"max_sessions": 1, "max_transcodes": 0}
MAX_LIMIT = 10_000
_ADMIN_LOCK = 0x79AFF5  # serialises changes that could remove the last administrator

_SELECT = """
SELECT u.id, u.name, u.is_admin, u.is_disabled, u.created_at, u.updated_at, u.last_login_at,
       u.max_sessions, u.max_transcodes, u.audio_languages, u.subtitle_languages, u.subtitle_mode,
       ARRAY(SELECT a.library_id FROM library_access a WHERE a.user_id = u.id ORDER BY a.library_id) AS library_ids
FROM users u
"""


async def list_users(conn: Conn) -> list[dict[str, Any]]:
    """Every user, by name."""
    return [row_dict(r) for r in await conn.fetch(_SELECT + " ORDER BY lower(u.name), u.id")]


async def get(conn: Conn, user_id: str) -> dict[str, Any]:
    """One user. :raises NotFound: absent or a malformed id."""
    row = await conn.fetchrow(_SELECT + " WHERE u.id = $1::uuid", parse_id(user_id, "user"))
    if row is None:
        raise NotFound("user not found")
    return row_dict(row)


async def credentials(conn: Conn, name: str) -> asyncpg.Record | None:
    """``id, name, password_hash, is_admin, is_disabled`` for a login name (any case), or None."""
    return await conn.fetchrow(
        "SELECT id, name, password_hash, is_admin, is_disabled FROM users WHERE lower(name) = lower($1)", name
    )


async def record_login(conn: Conn, user_id: str) -> None:
    """Stamp ``last_login_at``."""
    await conn.execute("UPDATE users SET last_login_at = now() WHERE id = $1::uuid", user_id)


def check_limit(name: str, value: Any) -> int | None:
    """A per-user limit: an integer in range, or ``None`` for the server's default. :raises BadInput:"""
    if value is None:
        return None
    low = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_LIMIT:
        raise BadInput(f"{name} must be null or an integer from {low} to {MAX_LIMIT}")
    return value


async def limits(conn: Conn, user_id: str) -> tuple[int | None, int | None]:
    """The user's own ``(max_sessions, max_transcodes)``; ``None`` where the default applies."""
    row = await conn.fetchrow("SELECT max_sessions, max_transcodes FROM users WHERE id = $1::uuid", user_id)
    return (row["max_sessions"], row["max_transcodes"]) if row is not None else (None, None)


def check_library_ids(value: Any) -> list[str]:
    """A list of library UUID strings. :raises BadInput: otherwise."""
    if not isinstance(value, list) or len(value) > 1000:
        raise BadInput("library_ids must be a list of library ids")
    return sorted({parse_id(v, "library", bad_input=True) for v in value})


async def create(conn: Conn, body: Mapping[str, Any]) -> dict[str, Any]:
    """A new user from ``{name, password, is_admin?, library_ids?}``.

    :raises BadInput: bad fields or unknown libraries. :raises Conflict: the name is taken.
    """
    unknown = set(body) - {"name", "password", "is_admin", "library_ids"}
    if unknown:
        raise BadInput(f"unknown field {sorted(unknown)[0]!r}")
    is_admin = body.get("is_admin", False)
    if not isinstance(is_admin, bool):
        raise BadInput("is_admin must be true or false")
    library_ids = check_library_ids(body.get("library_ids", []))
    user_id = await shared.insert(conn, body.get("name"), body.get("password"), is_admin=is_admin,
                                  library_ids=library_ids)  # fmt: skip
    return await get(conn, user_id)


async def update(conn: asyncpg.Pool, user_id: str, changes: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Apply ``changes`` (any of :data:`EDITABLE`); returns the user and whether its tokens must
    be revoked (password changed or user disabled).

    :raises NotFound: no such user. :raises BadInput: bad fields.
    :raises Conflict: the name is taken, or the change would leave no enabled administrator.
    """
    user_id = parse_id(user_id, "user")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise BadInput(f"unknown field {sorted(unknown)[0]!r}")
    sets: dict[str, Any] = {}
    if "name" in changes:
        sets["name"] = shared.check_name(changes["name"])
    if "password" in changes:
        sets["password_hash"] = await shared.hash_password(shared.check_password(changes["password"]))
    for flag in ("is_admin", "is_disabled"):
        if flag in changes:
            if not isinstance(changes[flag], bool):
                raise BadInput(f"{flag} must be true or false")
            sets[flag] = changes[flag]
    for name in LIMITS:
        if name in changes:
            sets[name] = check_limit(name, changes[name])
    library_ids = check_library_ids(changes["library_ids"]) if "library_ids" in changes else None
    async with conn.acquire() as c, c.transaction():
        await c.execute("SELECT pg_advisory_xact_lock($1)", _ADMIN_LOCK)
        before = await c.fetchrow("SELECT is_admin, is_disabled FROM users WHERE id = $1::uuid FOR UPDATE", user_id)
        if before is None:
            raise NotFound("user not found")
        if sets:
            cols = list(sets)
            assignments = ", ".join(f"{col} = ${n}" for n, col in enumerate(cols, start=2))
            try:
                await c.execute(f"UPDATE users SET {assignments}, updated_at = now() WHERE id = $1::uuid",
                                user_id, *sets.values())  # fmt: skip
            except asyncpg.UniqueViolationError as exc:
                raise Conflict(f"a user named {sets.get('name')!r} exists") from exc
        await _keep_an_admin(c)
        if library_ids is not None:
            await c.execute("DELETE FROM library_access WHERE user_id = $1::uuid", user_id)
            try:
                await c.execute(
                    "INSERT INTO library_access (user_id, library_id) SELECT $1::uuid, unnest($2::uuid[])",
                    user_id, library_ids,
                )  # fmt: skip
            except asyncpg.ForeignKeyViolationError as exc:
                raise BadInput("library_ids names a library that does not exist") from exc
        revoke = "password_hash" in sets or (sets.get("is_disabled") is True and not before["is_disabled"])
        return await get(c, user_id), revoke


async def delete(conn: asyncpg.Pool, user_id: str) -> dict[str, Any]:
    """Delete a user (their user data and access go with them); returns the deleted user.

    :raises NotFound: no such user. :raises Conflict: it is the last enabled administrator.
    """
    user_id = parse_id(user_id, "user")
    async with conn.acquire() as c, c.transaction():
        await c.execute("SELECT pg_advisory_xact_lock($1)", _ADMIN_LOCK)
        user = await get(c, user_id)
        await c.execute("DELETE FROM users WHERE id = $1::uuid", user_id)
        await _keep_an_admin(c)
        return user


async def _keep_an_admin(conn: asyncpg.Connection) -> None:
    # Inside the caller's transaction: raising rolls the change back.
    if not await conn.fetchval("SELECT 1 FROM users WHERE is_admin AND NOT is_disabled LIMIT 1"):
        raise Conflict("at least one enabled administrator must remain")
