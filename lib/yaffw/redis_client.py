"""Redis clients (redis-py asyncio and sync) built from settings."""

from __future__ import annotations

import redis as redis_sync
import redis.asyncio as redis_async

from yaffw.errors import ConfigError

# redis-py's async pool refuses a command outright (MaxConnectionsError, a 500 to the client) once
# 100 are in flight, which one api replica reaches at ~300 concurrent requests (docs/capacity.md).
# A blocking pool makes a burst wait for a free connection instead, for at most POOL_WAIT seconds.
MAX_CONNECTIONS = 512
POOL_WAIT = 5.0


def async_client(url: str | None) -> redis_async.Redis:
    """An asyncio client with string replies on a blocking pool. :raises ConfigError: when no URL."""
    if not url:
        raise ConfigError("REDIS_URL must be set")
    pool = redis_async.BlockingConnectionPool.from_url(
        url, decode_responses=True, health_check_interval=30, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT
    )
    return redis_async.Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


def sync_client(url: str | None) -> redis_sync.Redis:
    """A blocking client with string replies, for the Flask-based functions and the CLI."""
    if not url:
        raise ConfigError("REDIS_URL must be set")
    return redis_sync.Redis.from_url(url, decode_responses=True, health_check_interval=30)
