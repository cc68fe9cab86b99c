"""PostgreSQL connection pools (asyncpg), with a few retries while the server starts."""

from __future__ import annotations

import asyncio
import json
import logging

import asyncpg

from yaffw.errors import ConfigError, Unavailable

log = logging.getLogger(__name__)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns come back as Python objects, not strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str | None, *, min_size: int = 1, max_size: int = 10, attempts: int = 5) -> asyncpg.Pool:
    """Open a pool to ``dsn``, retrying with a logged warning while the server is not up yet.

    :raises ConfigError: when no URL is configured.
    :raises Unavailable: when the server cannot be reached after ``attempts`` tries.
    """
    if not dsn:
        raise ConfigError("DATABASE_URL must be set")
    delay = 0.2
    for attempt in range(1, attempts + 1):
        try:
            # JIT off: yaffw's queries are short, but a page of items with per-row subqueries is
            # estimated above jit_above_cost, and compiling it took 280 ms of a 340 ms query on a
            # 20,000-item library (loadtests/bench_jellyfin.py); without JIT it runs in ~40 ms.
            return await asyncpg.create_pool(
                dsn, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=60,
                server_settings={"jit": "off"},
            )  # fmt: skip
        except (OSError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError) as exc:
            if attempt == attempts:
                raise Unavailable(f"PostgreSQL not reachable: {exc}") from exc
            log.warning("PostgreSQL not reachable (%s), retry %d/%d", exc, attempt, attempts)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
