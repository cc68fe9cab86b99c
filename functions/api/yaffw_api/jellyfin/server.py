"""This server's identity as Jellyfin clients see it: a stable ``ServerId`` shared by every replica.

The id is generated once and kept in PostgreSQL (``plugin_configuration``, plugin ``jellyfin``), not
derived from a secret, so rotating secrets does not make every app think it met a new server.
"""

from __future__ import annotations

import uuid

from sanic import Request

from yaffw_api.client_address import is_https
from yaffw_api.context import deps

SERVER_NAME = "yaffw"

_ENSURE = """
INSERT INTO plugin_configuration (plugin, config) VALUES ('jellyfin', $1::jsonb)
ON CONFLICT (plugin) DO UPDATE SET config = plugin_configuration.config || (
    CASE WHEN plugin_configuration.config ? 'server_id' THEN '{}'::jsonb ELSE EXCLUDED.config END)
RETURNING config->>'server_id'
"""


async def server_id(request: Request) -> str:
    """The server's Jellyfin id (32 hex digits), created on first use and cached per process."""
    cached = getattr(request.app.ctx, "jf_server_id", None)
    if cached:
        return cached
    d = deps(request)
    assert d.pool is not None
    value = await d.pool.fetchval(_ENSURE, {"server_id": uuid.uuid4().hex})  # the pool encodes jsonb
    request.app.ctx.jf_server_id = value
    return value


def local_address(request: Request) -> str:
    """The address the client reached us at: https when a trusted proxy says the client used it."""
    scheme = "https" if is_https(request) else "http"
    return f"{scheme}://{request.host}"
