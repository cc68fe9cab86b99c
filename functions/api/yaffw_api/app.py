"""Builds the Sanic app: dependencies, error handling, metrics and every blueprint."""

from __future__ import annotations

import importlib
import logging

from sanic import Sanic
from yaffw import storage
from yaffw.db import create_pool
from yaffw.keys import Keys
from yaffw.redis_client import async_client
from yaffw.settings import Settings

from yaffw_api import drain, errors, metrics, security_headers
from yaffw_api.context import Deps
from yaffw_api.jellyfin import BLUEPRINTS as JELLYFIN_BLUEPRINTS
from yaffw_api.jellyfin import cors
from yaffw_api.jellyfin.routing import JellyfinAwareRequest

log = logging.getLogger(__name__)

# Each module here defines ``bp``; a feature adds its module name to this list.
BLUEPRINTS = [
    "yaffw_api.health",
    "yaffw_api.pages_static",
    "yaffw_api.pages_login",
    "yaffw_api.pages_home",
    "yaffw_api.pages_library",
    "yaffw_api.pages_item",
    "yaffw_api.pages_search",
    "yaffw_api.pages_admin_users",
    "yaffw_api.pages_admin_libraries",
    "yaffw_api.pages_admin_activity",
    "yaffw_api.api_auth",
    "yaffw_api.api_users",
    "yaffw_api.audio_prefs",
    "yaffw_api.api_libraries",
    "yaffw_api.api_items",
    "yaffw_api.api_events",
    "yaffw_api.api_notifications",
    "yaffw_api.api_activity",
    "yaffw_api.openapi",
    "yaffw_api.direct_play",
    "yaffw_api.playback",
    "yaffw_api.playback_sessions",
    "yaffw_api.hls",
    "yaffw_api.hls_subtitles",
    "yaffw_api.subtitles",
    "yaffw_api.subtitle_prefs",
    "yaffw_api.pages_player",
    "yaffw_api.pages_admin_sessions",
]


def create_app(settings: Settings, name: str = "yaffw-api") -> Sanic:
    """The api, wired to ``settings``. Connections open in the server's start-up hook."""
    settings.require("database_url", "redis_url", "jwt_secret")
    # The request class applies Jellyfin's routing rules (case-insensitive, /emby stripped).
    app = Sanic(name, configure_logging=False, request_class=JellyfinAwareRequest)
    app.config.REQUEST_MAX_SIZE = 16 * 1024 * 1024
    app.config.RESPONSE_TIMEOUT = 3600  # long downloads and SSE streams
    app.config.KEEP_ALIVE_TIMEOUT = 75
    app.config.FALLBACK_ERROR_FORMAT = "json"
    # Sanic never believes proxy headers by itself: yaffw_api.client_address decides, from
    # YAFFW_TRUSTED_PROXIES, which X-Forwarded-For/-Proto to trust (Sanic can only count hops).
    app.config.PROXIES_COUNT = 0
    app.config.REAL_IP_HEADER = None
    app.config.FORWARDED_SECRET = None
    app.ctx.deps = Deps(settings=settings, keys=Keys(settings.redis_prefix), store=storage.from_settings(settings))
    errors.install(app)
    metrics.install(app)
    cors.install(app)
    security_headers.install(app)
    drain.install(app, settings)
    for module in BLUEPRINTS + JELLYFIN_BLUEPRINTS:
        app.blueprint(importlib.import_module(module).bp)

    @app.before_server_start
    async def _open(app: Sanic) -> None:
        d: Deps = app.ctx.deps
        d.pool = await create_pool(settings.database_url, min_size=1, max_size=10)
        d.redis = async_client(settings.redis_url)

    @app.after_server_stop
    async def _close(app: Sanic) -> None:
        d: Deps = app.ctx.deps
        if d.redis is not None:
            await d.redis.aclose()
        if d.pool is not None:
            await d.pool.close()

    return app
