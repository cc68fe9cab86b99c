"""SSE streams per user (issue 14) against the running api and real Redis: the stream after
``YAFFW_MAX_SSE_PER_USER`` gets ``429 too_many_streams`` naming the limit, a closed stream frees its
slot, and a stream ends by itself when its token expires or is revoked (logout)."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack

import httpx
import pytest
from yaffw import tokens

from tests._media_rows import make_user
from tests.test_api_notifications import sse

pytestmark = pytest.mark.timeout(120)


async def test_streams_per_user_bounded(api_url, pool, settings) -> None:
    user = await make_user(pool, settings)
    other = await make_user(pool, settings)
    limit = settings.max_sse_per_user
    async with AsyncExitStack() as streams:
        for _ in range(limit):
            await streams.enter_async_context(sse(api_url, user["headers"]))
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.get(f"{api_url}/api/notifications", headers=user["headers"])
            assert r.status_code == 429, r.text
            error = r.json()["error"]
            assert error["code"] == "too_many_streams" and f"max_sse_per_user = {limit}" in error["message"]
            # The limit is per user: someone else in the household still connects.
            async with sse(api_url, other["headers"]):
                pass
    # Every slot came back when the streams closed.
    async with sse(api_url, user["headers"]):
        pass


async def _ends_within(stream, seconds: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(seconds):
        async for _line in stream.lines:
            pass
    return time.monotonic() - started


async def test_stream_ends_when_its_token_expires(api_url, pool, settings) -> None:
    user = await make_user(pool, settings)
    short, _ = tokens.issue(settings.jwt_secret or "", user["id"], False, 4)
    async with sse(api_url, {"Authorization": f"Bearer {short}"}) as stream:
        assert await _ends_within(stream, 10) < 8


async def test_stream_ends_when_its_token_is_revoked(api_url, pool, settings) -> None:
    user = await make_user(pool, settings)
    async with sse(api_url, user["headers"]) as stream:
        async with httpx.AsyncClient(timeout=30) as http:
            r = await http.post(f"{api_url}/api/auth/logout", headers=user["headers"])
            assert r.status_code == 204, r.text
        await _ends_within(stream, 25)  # checked at the next heartbeat (15 s)
