"""Readiness checks shared by every function: PostgreSQL and Redis reached."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from yaffw.settings import Settings


async def check_async(pool: asyncpg.Pool | None, redis: Any) -> dict[str, str]:
    """Probe PostgreSQL (via ``pool``) and Redis; returns ``{name: "ok" | error}``."""
    result: dict[str, str] = {}
    try:
        if pool is None:
            raise RuntimeError("no pool")
        async with asyncio.timeout(2):
            await pool.fetchval("SELECT 1")
        result["postgres"] = "ok"
    except Exception as exc:  # readiness reports any failure rather than raising
        result["postgres"] = f"{type(exc).__name__}: {exc}"
    try:
        async with asyncio.timeout(2):
            await redis.ping()
        result["redis"] = "ok"
    except Exception as exc:
        result["redis"] = f"{type(exc).__name__}: {exc}"
    return result


def check_sync(settings: Settings, redis: Any) -> dict[str, str]:
    """:func:`check_async` for the Flask-based functions, with a short-lived connection."""
    result: dict[str, str] = {}

    async def pg() -> None:
        conn = await asyncpg.connect(settings.database_url, timeout=2)
        try:
            await conn.fetchval("SELECT 1")
        finally:
            await conn.close()

    try:
        asyncio.run(pg())
        result["postgres"] = "ok"
    except Exception as exc:
        result["postgres"] = f"{type(exc).__name__}: {exc}"
    try:
        redis.ping()
        result["redis"] = "ok"
    except Exception as exc:
        result["redis"] = f"{type(exc).__name__}: {exc}"
    return result


def is_ready(result: dict[str, str]) -> bool:
    """True when every dependency answered."""
    return all(v == "ok" for v in result.values())
