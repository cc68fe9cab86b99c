"""Notifications fanned out to every api replica's SSE clients through the Redis channel ``notify``.

A message is JSON ``{"type", "data", "library_id", "user_id", "admin_only", "at"}``. An api replica
forwards it to a connected user when: ``admin_only`` → admins only; ``user_id`` set → that user (and
admins); ``library_id`` set → users who may see that library; otherwise everyone.
"""

from __future__ import annotations

import json
import time
from typing import Any


def message(
    type_: str,
    data: dict[str, Any],
    *,
    library_id: str | None = None,
    user_id: str | None = None,
    admin_only: bool = False,
) -> str:
    """The JSON text published on the channel."""
    return json.dumps(
        {"type": type_, "data": data, "library_id": library_id, "user_id": user_id,
         "admin_only": admin_only, "at": time.time()},
        default=str,
    )  # fmt: skip


async def publish(redis: Any, channel: str, type_: str, data: dict[str, Any], **audience: Any) -> None:
    """Publish on ``channel`` (``Keys.notify``) from asyncio code."""
    await redis.publish(channel, message(type_, data, **audience))


def publish_sync(redis: Any, channel: str, type_: str, data: dict[str, Any], **audience: Any) -> None:
    """Publish from blocking code (the Flask-based functions)."""
    redis.publish(channel, message(type_, data, **audience))
