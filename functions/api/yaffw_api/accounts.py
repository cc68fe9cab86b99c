"""User administration with its side effects, shared by the JSON routes and the admin pages:
SQL (``queries.users``), token revocation on every replica (``yaffw.tokens.revoke_user``) and the
activity log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yaffw import activity, tokens

from yaffw_api.auth import User
from yaffw_api.context import Deps
from yaffw_api.queries import users as user_queries


async def _revoke(d: Deps, user_id: str) -> None:
    # Every token issued so far, whichever kind: access, Jellyfin device and media URL tokens.
    longest = max(d.settings.jwt_ttl_seconds, d.settings.device_token_ttl_seconds, tokens.MAX_MEDIA_TTL)
    await tokens.revoke_user(d.redis, d.keys, user_id, longest)


async def create(d: Deps, actor: User, body: Mapping[str, Any]) -> dict[str, Any]:
    """Create a user (see ``queries.users.create``)."""
    assert d.pool is not None
    user = await user_queries.create(d.pool, body)
    await activity.write(d.pool, "user.created", f"{actor.name} created user {user['name']}", user_id=actor.id,
                         data={"target": user["id"], "is_admin": user["is_admin"]})  # fmt: skip
    return user


async def update(d: Deps, actor: User, user_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change a user; a new password or disabling ends all of the user's sessions at once."""
    assert d.pool is not None
    user, revoke = await user_queries.update(d.pool, user_id, changes)
    if revoke:
        await _revoke(d, user["id"])
    fields = sorted(k for k in changes if k != "password") + (["password"] if "password" in changes else [])
    await activity.write(d.pool, "user.updated", f"{actor.name} changed user {user['name']}: {', '.join(fields)}",
                         user_id=actor.id, data={"target": user["id"], "fields": fields})  # fmt: skip
    return user


async def delete(d: Deps, actor: User, user_id: str) -> dict[str, Any]:
    """Delete a user and end all of their sessions."""
    assert d.pool is not None
    user = await user_queries.delete(d.pool, user_id)
    await _revoke(d, user["id"])
    await activity.write(d.pool, "user.deleted", f"{actor.name} deleted user {user['name']}", user_id=actor.id,
                         data={"target": user["id"]})  # fmt: skip
    return user
