"""JWT access tokens (pyjwt) with ``jti`` and a revocation list in Redis (DESIGN §7).

Revocation works two ways: one token (logout) by ``revoked:{jti}``, and every token of a user
issued before a moment (user disabled or deleted, password changed) by ``revoked:user:{id}``. Every
api replica reads the same keys, so a revoked token is refused everywhere at once.

A media URL token (scope ``item:<id>``/``session:<sid>``) names the access token it was issued under
(claim ``par``): revoking that access token (logout) revokes its media tokens too, with no list to
keep. Both kinds of key live as long as the longest-lived token they may refuse, media tokens
(:data:`MAX_MEDIA_TTL`) included.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from yaffw.errors import Unauthorized
from yaffw.keys import Keys

_ALGORITHM = "HS256"
_ISSUER = "yaffw"
# Media URL tokens live at most this long (a film's length and then some): revocations cover it.
MAX_MEDIA_TTL = 12 * 3600


@dataclass(frozen=True)
class Claims:
    """What a verified access token says."""

    user_id: str
    is_admin: bool
    jti: str
    issued_at: float
    expires_at: int
    scope: str  # "access", or "item:<id>" / "session:<sid>" for short-lived media URLs
    device: str = ""  # the Jellyfin client device a token was issued to ("" for yaffw's own clients)
    parent: str = ""  # for a media URL token: the jti of the access token it was issued under


def issue(secret: str, user_id: str, is_admin: bool, ttl: int, *, scope: str = "access",
          device: str = "", parent: str = "") -> tuple[str, Claims]:  # fmt: skip
    """A signed token and its claims (``parent``: see :attr:`Claims.parent`)."""
    now = time.time()
    claims = Claims(str(user_id), is_admin, uuid.uuid4().hex, now, int(now) + ttl, scope, device, parent)
    payload = {
        "sub": claims.user_id, "adm": is_admin, "jti": claims.jti, "iat": now,
        "exp": claims.expires_at, "iss": _ISSUER, "scp": scope,
    }  # fmt: skip
    if device:
        payload["dev"] = device
    if parent:
        payload["par"] = parent
    return jwt.encode(payload, secret, algorithm=_ALGORITHM), claims


def decode(secret: str, token: str) -> Claims:
    """Verify signature, expiry and issuer. :raises Unauthorized: for any bad token."""
    try:
        p: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[_ALGORITHM], issuer=_ISSUER,
            options={"require": ["sub", "jti", "exp", "iat"]},
        )  # fmt: skip
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token expired", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("invalid token", code="invalid_token") from exc
    return Claims(str(p["sub"]), bool(p.get("adm")), str(p["jti"]), float(p["iat"]), int(p["exp"]),
                  str(p.get("scp", "access")), str(p.get("dev", "")), str(p.get("par", "")))  # fmt: skip


async def check_not_revoked(redis: Any, keys: Keys, claims: Claims) -> None:
    """:raises Unauthorized: if the token, the access token it was issued under, or all of its user's
    earlier tokens were revoked."""
    names = [keys.revoked(claims.jti), keys.user_revoked_before(claims.user_id)]
    if claims.parent:
        names.append(keys.revoked(claims.parent))
    revoked, before, *parent = await redis.mget(*names)
    if revoked is not None or any(p is not None for p in parent):
        raise Unauthorized("token revoked", code="token_revoked")
    if before is not None and claims.issued_at <= float(before):
        raise Unauthorized("token revoked", code="token_revoked")


async def revoke(redis: Any, keys: Keys, claims: Claims) -> None:
    """Refuse this token from now on (until it would have expired anyway), and so every media token
    issued under it (which may outlive it by up to :data:`MAX_MEDIA_TTL`)."""
    ttl = max(1, claims.expires_at - int(time.time()), MAX_MEDIA_TTL if claims.scope == "access" else 0)
    await redis.set(keys.revoked(claims.jti), "1", ex=ttl)


async def revoke_user(redis: Any, keys: Keys, user_id: str, max_ttl: int) -> None:
    """Refuse every token of ``user_id`` issued until now (disable, delete, password change), for
    ``max_ttl`` (the longest lifetime of an access token) or :data:`MAX_MEDIA_TTL`, whichever is longer."""
    ttl = max(max_ttl, MAX_MEDIA_TTL) + 60
    await redis.set(keys.user_revoked_before(str(user_id)), repr(time.time()), ex=ttl)
