"""The replica's notification hub: ONE Redis pub/sub subscription to ``Keys.notify`` per api
process, fanned out to the SSE clients connected to it (``api_notifications``).

Audience rules are ``yaffw.notify``'s: ``admin_only`` → admins; ``user_id`` → that user and
admins; ``library_id`` → users who may see that library; otherwise everyone. Each client has a
bounded queue; a client too slow to keep up is disconnected (its browser reconnects) rather than
let memory grow. The subscription reconnects with back-off if Redis goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from yaffw_api.auth import User

log = logging.getLogger(__name__)

QUEUE_SIZE = 256


@dataclass(eq=False)
class Client:
    """One connected SSE stream."""

    user: User
    libraries: set[str]
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    closed: bool = False

    def may_see(self, message: dict[str, Any]) -> bool:
        """Whether this client's user is in the message's audience."""
        if self.user.is_admin:
            return True
        if message.get("admin_only"):
            return False
        if message.get("user_id") is not None:
            return str(message["user_id"]) == self.user.id
        if message.get("library_id") is not None:
            return str(message["library_id"]) in self.libraries
        return True

    def close(self) -> None:
        """End the stream (the handler sees ``None``)."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(None)


class Hub:
    """Subscribes once and fans out to every :class:`Client` of this process."""

    def __init__(self, redis: Any, channel: str):
        self.redis = redis
        self.channel = channel
        self.clients: set[Client] = set()
        self.ready = asyncio.Event()
        self.ending = False  # the replica drains: streams end, new ones end at once
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin listening (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="notify-hub")

    async def stop(self) -> None:
        """Stop listening and end every stream."""
        for client in list(self.clients):
            client.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def add(self, client: Client) -> None:
        """Start forwarding to ``client`` (or end it at once while the replica drains)."""
        self.clients.add(client)
        if self.ending:
            client.close()

    def end_streams(self) -> None:
        """End every stream, now and from now on (the replica drains: clients reconnect elsewhere)."""
        self.ending = True
        for client in list(self.clients):
            client.close()

    def remove(self, client: Client) -> None:
        """Stop forwarding to ``client``."""
        self.clients.discard(client)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.ready.set()
                delay = 0.5
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("type") == "message":
                        self.fan_out(message["data"])
            except (RedisError, OSError) as exc:
                self.ready.clear()
                log.warning("notify subscription lost (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            except Exception:
                # Anything else must not end the task silently (every SSE stream of this replica
                # would go quiet for good): log it and subscribe again.
                self.ready.clear()
                log.exception("notify subscription failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def fan_out(self, data: str) -> None:
        """Queue one published message for every client allowed to see it."""
        try:
            message = json.loads(data)
        except ValueError:
            log.warning("ignoring a notify message that is not JSON")
            return
        if not isinstance(message, dict):
            return
        for client in list(self.clients):
            if client.closed or not client.may_see(message):
                continue
            try:
                client.queue.put_nowait(data)
            except asyncio.QueueFull:
                log.info("SSE client of user %s too slow; disconnecting it", client.user.id)
                self.remove(client)
                client.closed = True
                # Make room for the end marker so the handler wakes up and ends the stream.
                client.queue.get_nowait()
                client.queue.put_nowait(None)
