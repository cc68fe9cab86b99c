"""Fixtures shared by the ``test_api_*`` modules (import them by name into a test module)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as redis_async
from yaffw.keys import Keys
from yaffw.settings import Settings

from tests.api_procs import api_process
from tests.api_seed import Seed, seed


@pytest.fixture
async def data(clean_db: asyncpg.Pool) -> Seed:
    """The seeded users, libraries and items (fresh for each test)."""
    return await seed(clean_db)


@pytest.fixture(scope="session")
def replica2(settings: Settings, _scratch: Path, api_url: str) -> Iterator[str]:
    """A second api replica on the same database and Redis as ``api_url``."""
    with api_process(settings, _scratch / "api-replica2.log") as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without cookies persisted between calls to different URLs' tests."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture(autouse=False)
async def no_login_limits(redis: redis_async.Redis, keys: Keys) -> AsyncIterator[None]:
    """Forget failed-login counters before and after the test (they are per address: 127.0.0.1)."""

    async def clear() -> None:
        async for key in redis.scan_iter(match=keys.login_attempts("*", "*")):
            await redis.delete(key)

    await clear()
    yield
    await clear()
