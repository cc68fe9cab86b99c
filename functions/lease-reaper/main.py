"""The lease-reaper function (functions-framework, CloudEvent): ``yaffw function lease-reaper``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import functions_framework
from cloudevents.http import CloudEvent
from yaffw import events
from yaffw.db import create_pool
from yaffw.redis_client import async_client
from yaffw.settings import Settings
from yaffw_reaper.reaper import Reaper

log = logging.getLogger("yaffw_reaper")

# Built once per process, at start (entry point); handlers reuse it.
SETTINGS = Settings.from_env()


async def run_tick(settings: Settings) -> dict[str, Any]:
    """One reaper pass with its own connections (the sync handler runs it in a fresh event loop)."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    redis = async_client(settings.redis_url)
    try:
        async with pool.acquire() as conn:
            return await Reaper(settings, redis, conn).tick()
    finally:
        await redis.aclose()
        await pool.close()


@functions_framework.cloud_event
def handle(event: CloudEvent) -> None:
    """Handle ``io.yaffw.lease.tick``; other event types are ignored."""
    if event.get("type") != events.LEASE_TICK:
        log.info("ignoring %s", event.get("type"))
        return
    result = asyncio.run(run_tick(SETTINGS))
    log.info("tick: %s", result)
