"""What every request handler may use, kept on ``app.ctx`` (built once in ``app.create_app``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from sanic import Request
from yaffw.keys import Keys
from yaffw.routing import Routing
from yaffw.settings import Settings
from yaffw.storage import ObjectStore


@dataclass
class Deps:
    """Dependencies wired at start-up."""

    settings: Settings
    keys: Keys
    store: ObjectStore
    pool: asyncpg.Pool | None = None
    redis: Any = None  # redis.asyncio.Redis

    @property
    def routing(self) -> Routing:
        """The session protocol (worker routes, leases, the job queue) on this app's Redis."""
        return Routing(self.redis, self.keys)


def deps(request: Request) -> Deps:
    """The app's dependencies for ``request``."""
    return request.app.ctx.deps
