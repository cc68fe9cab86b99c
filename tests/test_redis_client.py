"""The api's Redis client survives a burst of concurrent commands (a pool that waits, not one that
refuses: redis-py's default refused the 101st command in flight with MaxConnectionsError)."""

from __future__ import annotations

import asyncio

from yaffw.keys import Keys
from yaffw.redis_client import MAX_CONNECTIONS, async_client
from yaffw.settings import Settings


async def test_burst_beyond_the_pool_waits_instead_of_failing(settings: Settings, keys: Keys) -> None:
    client = async_client(settings.redis_url)
    key = keys.prefix + "test:burst-empty-list"
    try:
        # Each BLPOP holds a connection for 0.3 s: more of them than the pool has connections.
        results = await asyncio.gather(*(client.blpop([key], timeout=0.3) for _ in range(MAX_CONNECTIONS + 88)))
        assert results == [None] * (MAX_CONNECTIONS + 88)
    finally:
        await client.aclose()
