"""PostgreSQL connection pools (asyncpg) that wait for a server that is starting or restarting."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import asyncpg

from yaffw.errors import ConfigError, Unavailable

log = logging.getLogger(__name__)

# A new connection waits this long for a PostgreSQL that refuses connections (restarting, failing
# over, starting up) instead of failing the request that needs it. asyncpg's pool already drops the
# connections a restart cut and opens new ones on acquire; without the wait every request made during
# the restart was a 500 (tests/test_faults.py: ~1,000 of them in a 2 s restart under ten browsers).
RECONNECT_WAIT = 10.0
_NOT_YET = (OSError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns come back as Python objects, not strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _connect_patiently(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """``asyncpg.connect`` retried with back-off for up to :data:`RECONNECT_WAIT` seconds."""
    deadline = time.monotonic() + RECONNECT_WAIT
    delay = 0.1
    while True:
        try:
            return await asyncpg.connect(*args, **kwargs)
        except _NOT_YET as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.info("PostgreSQL not reachable (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


async def create_pool(dsn: str | None, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """Open a pool to ``dsn``; it and every connection it opens later wait for the server for up to
    :data:`RECONNECT_WAIT` seconds.

    :raises ConfigError: when no URL is configured.
    :raises Unavailable: when the server cannot be reached in that time.
    """
    if not dsn:
        raise ConfigError("DATABASE_URL must be set")
    try:
        # JIT off: yaffw's queries are short, but a page of items with per-row subqueries is
        # estimated above jit_above_cost, and compiling it took 280 ms of a 340 ms query on a
        # 20,000-item library (loadtests/bench_jellyfin.py); without JIT it runs in ~40 ms.
        return await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=60,
            server_settings={"jit": "off"}, connect=_connect_patiently,
        )  # fmt: skip
    except _NOT_YET as exc:
        raise Unavailable(f"PostgreSQL not reachable: {exc}") from exc
