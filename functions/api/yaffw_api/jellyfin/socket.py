"""The ``/socket`` WebSocket Jellyfin apps keep open: the ``ForceKeepAlive``/``KeepAlive`` exchange and
the ``UserDataChanged`` / ``LibraryChanged`` pushes.

Credentials are checked before the handshake (``?api_key=``/``ApiKey`` or any header form): an
unauthenticated upgrade is answered 401 and never becomes a socket. Each socket registers with the
replica's notification hub (``yaffw_api.notifications``: ONE Redis subscription per process, the
one the SSE stream uses), so a change made through either surface on any replica reaches it:

- ``io.yaffw.userdata.changed`` (``yaffw.userdata.publish_changed``) → ``UserDataChanged``, only to
  the sockets of the user whose data it is (administrators hear other users' SSE notices, not this).
- the scan's ``io.yaffw.media.item.added|updated|removed`` and ``io.yaffw.library.scan.completed`` →
  ``LibraryChanged``, gathered for :data:`LIBRARY_BATCH_SECONDS` so a scan does not flood clients.

Messages from the client other than ``KeepAlive`` (``SessionsStart``, ``ActivityLogEntryStart`` …)
are accepted and ignored: yaffw has no such feeds. Every :data:`RECHECK_SECONDS` the token and
account are checked again, as for SSE; a revoked token closes the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sanic import Blueprint, Request
from yaffw import events, userdata

from yaffw_api.access import visible_library_ids
from yaffw_api.api_notifications import _still_allowed
from yaffw_api.auth import User
from yaffw_api.context import deps
from yaffw_api.jellyfin import jfauth
from yaffw_api.jellyfin.dto_userdata import user_data_dto
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.wire import clean, jf_id
from yaffw_api.notifications import Client, Hub

bp = Blueprint("jf_socket", url_prefix=PREFIX)

KEEPALIVE_SECONDS = 60  # Jellyfin's WebSocketLostTimeout: clients send KeepAlive every half of it
RECHECK_SECONDS = 30.0
LIBRARY_BATCH_SECONDS = 1.0
READY_WAIT_SECONDS = 10.0
MAX_LIST = 500  # ids per LibraryChanged list


def message_id() -> str:
    """A fresh ``MessageId`` (32 hex digits, as Jellyfin writes GUIDs)."""
    return uuid.uuid4().hex


def outbound(message_type: str, data: Any = None) -> str:
    """An outbound message's JSON text."""
    return json.dumps(clean({"MessageType": message_type, "Data": data, "MessageId": message_id()}))


def user_data_changed(user_id: str, message: dict[str, Any]) -> dict[str, Any] | None:
    """``UserDataChanged``'s ``Data`` for a notify message, or ``None`` when it is not that user's."""
    data = message.get("data")
    if str(message.get("user_id")) != user_id or not isinstance(data, dict) or not data.get("item_id"):
        return None
    dto = user_data_dto(data.get("user_data"), str(data["item_id"]), data.get("duration_seconds"))
    return {"UserId": jf_id(user_id), "UserDataList": [dto]}


@dataclass
class LibraryBatch:
    """``LibraryChanged`` being gathered (sets keep ids unique; lists are capped when sent)."""

    added: set[str] = field(default_factory=set)
    updated: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    folders_added: set[str] = field(default_factory=set)
    folders_removed: set[str] = field(default_factory=set)
    collections: set[str] = field(default_factory=set)
    due: float | None = None  # monotonic time to send it

    def add(self, message: dict[str, Any]) -> bool:
        """Take a scan notification in; whether it was one."""
        type_, data = message.get("type"), message.get("data")
        if not isinstance(data, dict):
            return False
        library = jf_id(data["library_id"]) if data.get("library_id") else None
        item = jf_id(data["item_id"]) if data.get("item_id") else None
        if type_ == events.ITEM_ADDED and item:
            self.added.add(item)
            self._folder(self.folders_added, library)
        elif type_ == events.ITEM_UPDATED and item:
            self.updated.add(item)
        elif type_ == events.ITEM_REMOVED and item:
            self.removed.add(item)
            self._folder(self.folders_removed, library)
        elif type_ == events.SCAN_COMPLETED:
            # A scan's items past the notify cap are only in its totals: name the library, so
            # clients refresh it.
            if not any(data.get(k) for k in ("added", "updated", "moved", "removed")):
                return True
            if data.get("added") or data.get("moved"):
                self._folder(self.folders_added, library)
            if data.get("removed"):
                self._folder(self.folders_removed, library)
        else:
            return False
        if library:
            self.collections.add(library)
        if self.due is None:
            self.due = time.monotonic() + LIBRARY_BATCH_SECONDS
        return True

    @staticmethod
    def _folder(target: set[str], library: str | None) -> None:
        if library:
            target.add(library)

    def data(self) -> dict[str, Any]:
        """``LibraryChanged``'s ``Data`` (a ``LibraryUpdateInfo``)."""

        def cap(values: set[str]) -> list[str]:
            return sorted(values)[:MAX_LIST]

        return {
            "FoldersAddedTo": cap(self.folders_added), "FoldersRemovedFrom": cap(self.folders_removed),
            "ItemsAdded": cap(self.added), "ItemsRemoved": cap(self.removed), "ItemsUpdated": cap(self.updated),
            "CollectionFolders": cap(self.collections),
        }  # fmt: skip


@bp.on_request
async def _authenticate(request: Request) -> None:
    """Refuse an unauthenticated upgrade with 401 before the handshake (the handler runs after it)."""
    await jfauth.require_user(request)


class Connection:
    """One client's socket: sends are serialised, reads run in their own task."""

    def __init__(self, ws: Any, user: User):
        self.ws = ws
        self.user = user
        self._lock = asyncio.Lock()

    async def send(self, text: str) -> None:
        """Send one message (one at a time)."""
        async with self._lock:
            await self.ws.send(text)

    async def read(self) -> None:
        """Answer ``KeepAlive``; ignore everything else. Returns when the client goes away."""
        while True:
            raw = await self.ws.recv()
            if raw is None:
                return
            try:
                message = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                continue
            if isinstance(message, dict) and message.get("MessageType") == "KeepAlive":
                await self.send(outbound("KeepAlive"))

    def translate(self, data: str, batch: LibraryBatch) -> str | None:
        """The Jellyfin message for one notify message, or ``None`` (batched, or none applies)."""
        try:
            message = json.loads(data)
        except ValueError:
            return None
        if not isinstance(message, dict):
            return None
        if message.get("type") == userdata.CHANGED:
            changed = user_data_changed(self.user.id, message)
            return outbound("UserDataChanged", changed) if changed else None
        batch.add(message)
        return None


@bp.websocket("/socket")
async def socket(request: Request, ws: Any) -> None:
    """Jellyfin's WebSocket: keep-alives and pushes until the client leaves or its token is revoked."""
    user = await jfauth.require_user(request)
    d = deps(request)
    hub: Hub = request.app.ctx.hub
    with contextlib.suppress(TimeoutError):
        # Without the subscription the socket still answers keep-alives; pushes start once it is live.
        await asyncio.wait_for(hub.ready.wait(), READY_WAIT_SECONDS)
    client = Client(user, set(await visible_library_ids(d.pool, user)))
    hub.add(client)
    conn = Connection(ws, user)
    reader = asyncio.create_task(conn.read(), name="jf-socket-read")
    getter: asyncio.Future[str | None] | None = None
    batch = LibraryBatch()
    next_check = time.monotonic() + RECHECK_SECONDS
    try:
        await conn.send(outbound("ForceKeepAlive", KEEPALIVE_SECONDS))
        while True:
            getter = getter or asyncio.ensure_future(client.queue.get())
            now = time.monotonic()
            deadline = min(next_check, batch.due) if batch.due is not None else next_check
            done, _ = await asyncio.wait({getter, reader}, timeout=max(0.0, deadline - now),
                                         return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            if reader in done:
                break  # the client left (or sent something the socket could not take)
            if getter in done:
                data, getter = getter.result(), None
                if data is None:
                    break  # the hub dropped this client (too slow, or the server stops)
                text = conn.translate(data, batch)
                if text is not None:
                    await conn.send(text)
            now = time.monotonic()
            if batch.due is not None and now >= batch.due:
                text, batch = outbound("LibraryChanged", batch.data()), LibraryBatch()
                await conn.send(text)
            if now >= next_check:
                if not await _still_allowed(d, user):
                    break
                client.libraries = set(await visible_library_ids(d.pool, user))
                next_check = now + RECHECK_SECONDS
    finally:
        hub.remove(client)
        for task in (reader, getter):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task  # collect its outcome (a closed connection is expected)
        with contextlib.suppress(Exception):
            await ws.close()
