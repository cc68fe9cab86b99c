"""Errors that mean PostgreSQL or Redis cannot be reached right now (restarting, failing over),
as opposed to a bug: callers answer them with 503 and ``Retry-After`` rather than a 500.

The clients already wait out a short restart (``yaffw.db.RECONNECT_WAIT``,
``yaffw.redis_client.RETRIES``); these are what is left when an outage lasts longer, or when a
connection was cut in the middle of a query.
"""

from __future__ import annotations

import asyncpg
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

SERVICE_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was closed mid-operation
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,  # its connection was terminated by a (fast) shutdown
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # "cannot switch to state 12; another operation (2) is in progress": a pooled connection handed
    # out in the instant between the server's shutdown notice and the socket's close (seen twice in
    # a restart under ten browsers); the pool drops that connection afterwards.
    asyncpg.InternalClientError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,  # the builtin: refused, reset, aborted
)
RETRY_AFTER = "2"


def is_service_down(exc: BaseException | None) -> bool:
    """True when ``exc`` is, or was raised while handling, one of :data:`SERVICE_DOWN` (asyncpg's
    ``Transaction.__aexit__`` raises InterfaceError "connection is closed" over the real cause)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, SERVICE_DOWN):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
