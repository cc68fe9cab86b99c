"""Who is calling the Jellyfin surface, as Jellyfin 10.11 reads it, and the device tokens it issues.

Credentials come, in Jellyfin's order, from ``Authorization: MediaBrowser Client=…, Device=…,
DeviceId=…, Version=…, Token=…`` (or ``X-Emby-Authorization``, scheme ``MediaBrowser`` or ``Emby``,
values quoted or not, URL-encoded), ``X-Emby-Token``, ``X-MediaBrowser-Token``, then the query's
``ApiKey`` / ``api_key``. A plain ``Authorization: Bearer`` yaffw token works too.

Tokens are yaffw's JWTs (one revocation scheme with ``/api``, see ``yaffw.tokens``) issued with the
client's device id; a device holds one token per user, so logging in again from the same device
revokes the token it had before, as Jellyfin replaces a device's access token.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from hashlib import sha256
from typing import Any
from urllib.parse import unquote

from sanic import Request
from yaffw import tokens
from yaffw.errors import Forbidden, Unauthorized

from yaffw_api.auth import User, user_from_claims
from yaffw_api.context import Deps, deps
from yaffw_api.jellyfin.wire import arg

_PAIR = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^,]*))\s*(?:,|$)')
_SCHEMES = ("mediabrowser", "emby")
MAX_FIELD = 256


@dataclass(frozen=True)
class ClientInfo:
    """What a Jellyfin client says about itself in its authorization header."""

    client: str = ""
    device: str = ""
    device_id: str = ""
    version: str = ""
    token: str = ""


def parse_authorization(value: str | None) -> ClientInfo | None:
    """The fields of a ``MediaBrowser``/``Emby`` authorization header, or ``None`` if it is not one."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() not in _SCHEMES:
        return None
    fields: dict[str, str] = {}
    for match in _PAIR.finditer(rest):
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        fields[match.group(1).lower()] = unquote(raw.strip())
    short = {k: v[:MAX_FIELD] for k, v in fields.items()}  # free text kept for display; tokens whole
    return ClientInfo(
        client=short.get("client", ""), device=short.get("device", ""), device_id=short.get("deviceid", ""),
        version=short.get("version", ""), token=fields.get("token", "")[:8192],
    )  # fmt: skip


def client_info(request: Request) -> ClientInfo:
    """The caller's client fields and token, from wherever Jellyfin would take them (cached)."""
    cached = getattr(request.ctx, "jf_client", None)
    if cached is not None:
        return cached
    h = request.headers
    info = parse_authorization(h.get("authorization")) or parse_authorization(h.get("x-emby-authorization"))
    info = info or ClientInfo()
    token = (
        info.token or h.get("x-emby-token") or h.get("x-mediabrowser-token") or arg(request, "ApiKey")
        or arg(request, "api_key") or ""
    )  # fmt: skip
    if not token and h.get("authorization", "").lower().startswith("bearer "):
        token = h["authorization"][7:].strip()
    if not info.device_id:
        info = ClientInfo(info.client, info.device, arg(request, "DeviceId") or "", info.version, info.token)
    info = ClientInfo(info.client, info.device, info.device_id, info.version, token.strip())
    request.ctx.jf_client = info
    return info


async def require_user(request: Request, *, scope: str | None = None) -> User:
    """The caller, who must hold a valid, unrevoked token (header or query, as in Jellyfin).

    ``scope`` names a session a media-URL token may be scoped to (``session:<sid>``).
    :raises Unauthorized: no token, a bad, expired or revoked one, or a disabled user.
    """
    cached = getattr(request.ctx, "user", None)
    if cached is not None:
        return cached
    info = client_info(request)
    if not info.token:
        raise Unauthorized("authentication required")
    d = deps(request)
    claims = tokens.decode(d.settings.jwt_secret or "", info.token)
    return await user_from_claims(request, claims, scope=scope)


async def require_admin(request: Request) -> User:
    """The caller, who must be an administrator. :raises Forbidden: otherwise."""
    user = await require_user(request)
    if not user.is_admin:
        raise Forbidden("administrators only")
    return user


def device_key(device_id: str) -> str:
    """A short, key-safe name for a client's device id (clients send any text)."""
    return sha256(device_id.encode()).hexdigest()[:32]


async def bind_device(d: Deps, claims: tokens.Claims, info: ClientInfo) -> None:
    """Make ``claims``' token the one its device holds for its user; the previous one is revoked."""
    key = d.keys.device_token(claims.user_id, device_key(claims.device or "unknown"))
    previous = await d.redis.getset(key, f"{claims.jti}:{claims.expires_at}")
    await d.redis.expireat(key, claims.expires_at)
    if previous:
        jti, _, expires = previous.partition(":")
        if jti and jti != claims.jti and expires.isdigit():
            await d.redis.set(d.keys.revoked(jti), "1", ex=max(1, int(expires) - int(time.time())))
    await remember_device(d, claims.user_id, info)


async def remember_device(d: Deps, user_id: str, info: ClientInfo) -> None:
    """Record the client and device a user plays from (for ``SessionInfo`` and the admin pages)."""
    if not info.device_id:
        return
    entry = {"client": info.client, "device": info.device, "version": info.version, "device_id": info.device_id,
             "last_seen": time.time()}  # fmt: skip
    await d.redis.hset(d.keys.devices(user_id), device_key(info.device_id), json.dumps(entry))
    await d.redis.expire(d.keys.devices(user_id), d.settings.device_token_ttl_seconds)


def as_dict(info: ClientInfo) -> dict[str, Any]:
    """The client fields for logs and activity."""
    return {"client": info.client, "device": info.device, "device_id": info.device_id, "version": info.version}
