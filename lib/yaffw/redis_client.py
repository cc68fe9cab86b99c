"""Redis clients (redis-py asyncio and sync) built from settings."""

from __future__ import annotations

import redis as redis_sync
import redis.asyncio as redis_async
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry as SyncRetry

from yaffw.errors import ConfigError

# redis-py's async pool refuses a command outright (MaxConnectionsError, a 500 to the client) once
# 100 are in flight, which one api replica reaches at ~300 concurrent requests (docs/capacity.md).
# A blocking pool makes a burst wait for a free connection instead, for at most POOL_WAIT seconds.
MAX_CONNECTIONS = 512
POOL_WAIT = 5.0

# A restarted Redis (a rolling update of its pod, a crash with its append-only file) refuses
# connections for a few seconds. A command retries over that window instead of failing the request,
# the scan or the worker loop that sent it: 0.05, 0.1, ... 0.8, then 1 s between tries, ~10 s in all
# (tests/test_faults.py). A pool built by hand (``from_pool``) gets no retries from redis-py at all:
# the policy must be given to the pool's connections. Retrying may repeat a command whose reply was
# lost with the connection (an RPUSH, an XADD): queue and event consumers are idempotent (DESIGN §4).
RETRIES = 14
RETRY_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionResetError, ConnectionRefusedError)
CONNECT_TIMEOUT = 2.0


def _backoff() -> ExponentialBackoff:
    return ExponentialBackoff(cap=1.0, base=0.05)


def async_client(url: str | None) -> redis_async.Redis:
    """An asyncio client with string replies on a blocking pool. :raises ConfigError: when no URL."""
    if not url:
        raise ConfigError("REDIS_URL must be set")
    pool = redis_async.BlockingConnectionPool.from_url(
        url, decode_responses=True, health_check_interval=30, max_connections=MAX_CONNECTIONS, timeout=POOL_WAIT,
        retry=AsyncRetry(_backoff(), RETRIES, RETRY_ERRORS), socket_connect_timeout=CONNECT_TIMEOUT,
        socket_keepalive=True,
    )  # fmt: skip
    return redis_async.Redis.from_pool(pool)  # the client owns the pool: aclose() closes it


def sync_client(url: str | None) -> redis_sync.Redis:
    """A blocking client with string replies, for the Flask-based functions and the CLI."""
    if not url:
        raise ConfigError("REDIS_URL must be set")
    return redis_sync.Redis.from_url(
        url, decode_responses=True, health_check_interval=30, retry=SyncRetry(_backoff(), RETRIES, RETRY_ERRORS),
        socket_connect_timeout=CONNECT_TIMEOUT, socket_keepalive=True,
    )  # fmt: skip
