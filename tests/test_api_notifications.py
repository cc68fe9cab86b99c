"""SSE notifications: one subscription per replica, fanned out by audience; a message published
through replica 1 (or straight to Redis) reaches a client connected to replica 2.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as redis_async
from yaffw import notify
from yaffw.keys import Keys
from yaffw.settings import Settings

from tests.api_fixtures import data, http, replica2  # noqa: F401
from tests.api_seed import Seed, bearer


class Stream:
    """An open SSE response, read message by message."""

    def __init__(self, response: httpx.Response):
        self.lines = response.aiter_lines()

    async def next_message(self, timeout: float = 30) -> dict[str, Any]:
        """The next unnamed event's JSON data (skips comments and named events)."""
        async with asyncio.timeout(timeout):
            event = None
            async for line in self.lines:
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event is None:
                    return json.loads(line[5:])
                elif line == "":
                    event = None
        raise AssertionError("stream ended")


@asynccontextmanager
async def sse(url: str, headers: dict[str, str]) -> AsyncIterator[Stream]:
    """Connect and wait for the ``ready`` event (the replica's subscription is live)."""
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(30, read=60)) as client,
        client.stream("GET", f"{url}/api/notifications", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        async with asyncio.timeout(30):
            seen_ready = False
            async for line in stream.lines:
                seen_ready = seen_ready or line == "event: ready"
                if seen_ready and line == "":
                    break
        yield stream


async def test_scan_notice_through_replica1_reaches_replica2(http: httpx.AsyncClient, api_url: str, replica2: str,
                                                             data: Seed, settings: Settings) -> None:  # fmt: skip
    async with sse(replica2, bearer(settings, data, "alice")) as stream:
        movies = data.libraries["Movies"]
        r = await http.post(f"{api_url}/api/libraries/{movies}/scan", headers=bearer(settings, data, "root"))
        assert r.status_code == 202
        message = await stream.next_message()
        assert message["type"] == "library.scan.requested" and message["library_id"] == movies
        assert message["data"]["name"] == "Movies"


async def test_audience_rules(replica2: str, data: Seed, settings: Settings, redis: redis_async.Redis,
                              keys: Keys) -> None:  # fmt: skip
    async with (
        sse(replica2, bearer(settings, data, "alice")) as alice,
        sse(replica2, bearer(settings, data, "root")) as root,
    ):
        await notify.publish(redis, keys.notify, "admin.only", {"n": 1}, admin_only=True)
        await notify.publish(redis, keys.notify, "private.lib", {"n": 2}, library_id=data.libraries["Private"])
        await notify.publish(redis, keys.notify, "for.bob", {"n": 3}, user_id=data.users["bob"])
        await notify.publish(redis, keys.notify, "for.alice", {"n": 4}, user_id=data.users["alice"])
        await notify.publish(redis, keys.notify, "movies", {"n": 5}, library_id=data.libraries["Movies"])
        await notify.publish(redis, keys.notify, "everyone", {"n": 6})
        assert [(await alice.next_message())["data"]["n"] for _ in range(3)] == [4, 5, 6]
        assert [(await root.next_message())["data"]["n"] for _ in range(6)] == [1, 2, 3, 4, 5, 6]


async def test_notifications_need_a_user(http: httpx.AsyncClient, replica2: str) -> None:
    r = await http.get(f"{replica2}/api/notifications")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


async def test_disconnect_and_reconnect(replica2: str, data: Seed, settings: Settings, redis: redis_async.Redis,
                                        keys: Keys) -> None:  # fmt: skip
    headers = bearer(settings, data, "alice")
    for n in range(3):  # clients come and go; the replica keeps serving the next one
        async with sse(replica2, headers) as stream:
            await notify.publish(redis, keys.notify, "everyone", {"n": n})
            assert (await stream.next_message())["data"]["n"] == n
