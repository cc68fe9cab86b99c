"""Redis clients (redis-py asyncio and sync) built from settings."""

from __future__ import annotations

import redis as redis_sync
import redis.asyncio as redis_async

from yaffw.errors import ConfigError


def async_client(url: str | None) -> redis_async.Redis:
    """An asyncio client with string replies. :raises ConfigError: when no URL is configured."""
    if not url:
        raise ConfigError("REDIS_URL must be set")
    return redis_async.Redis.from_url(url, decode_responses=True, health_check_interval=30)


def sync_client(url: str | None) -> redis_sync.Redis:
    """A blocking client with string replies, for the Flask-based functions and the CLI."""
    if not url:
        raise ConfigError("REDIS_URL must be set")
    return redis_sync.Redis.from_url(url, decode_responses=True, health_check_interval=30)
