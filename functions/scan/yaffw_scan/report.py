"""What a scan tells the rest of the system: CloudEvents on the ``events`` stream and messages on
the ``notify`` channel (the UI's live bar).

- ``io.yaffw.library.scan.progress {library_id, done, total, phase}``: at most one per
  ``interval`` (0.5 s), plus the final one — never a flood, however fast files go by.
- ``io.yaffw.media.item.added|updated|removed {item_id, library_id}``: one per item on the stream
  (consumers may act per item), appended in pipelined batches. On the notify channel only the first
  ``notify_cap`` added items of a scan are sent one by one: after that the UI learns the rest from
  the progress bar and the completed message instead of thousands of toasts.
- ``io.yaffw.library.scan.completed {library_id, added, updated, moved, removed, failed, seconds}``.
- Films and episodes added or changed go onto ``queue:openings`` in the same batches, so idle
  transcode workers make their first segments ahead of the first playback (``yaffw.opening_queue``).
"""

from __future__ import annotations

import time
from typing import Any

from yaffw import events, notify, opening_queue
from yaffw.keys import Keys

SOURCE = "/yaffw/scan"
_BATCH = 200


class Reporter:
    """Publishes one scan's events."""

    def __init__(self, redis: Any, keys: Keys, library_id: str, *, interval: float = 0.5, notify_cap: int = 50):
        self.redis = redis
        self.keys = keys
        self.library_id = library_id
        self.interval = interval
        self.notify_cap = notify_cap
        self._last_at = 0.0
        self._items: list[tuple[str, str]] = []
        self._openings: list[str] = []
        self._notified = 0
        self.published = 0

    async def progress(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        """Report progress, unless one went out less than ``interval`` ago (``force``: the first and
        the last of a scan)."""
        now = time.monotonic()
        if not force and now - self._last_at < self.interval:
            return
        self._last_at = now
        data = {"library_id": self.library_id, "done": done, "total": total, "phase": phase}
        await self._send(events.SCAN_PROGRESS, data)
        if len(self._items) >= _BATCH:
            await self.flush()

    def item(self, type_: str, item_id: str) -> None:
        """Queue ``item.added``/``updated``/``removed`` (sent by :meth:`flush`)."""
        self._items.append((type_, item_id))

    def opening(self, item_id: str) -> None:
        """Ask for the opening of a film or episode file (sent by :meth:`flush`)."""
        self._openings.append(item_id)

    async def flush(self) -> None:
        """Append queued item events to the stream in one round trip."""
        if not self._items and not self._openings:
            return
        batch, self._items = self._items, []
        openings, self._openings = self._openings, []
        pipe = self.redis.pipeline(transaction=False)
        opening_queue.request_sync(pipe, self.keys, openings)
        for type_, item_id in batch:
            data = {"item_id": item_id, "library_id": self.library_id}
            events.publish_sync(pipe, self.keys.events, events.build(type_, SOURCE, data))
            if type_ == events.ITEM_ADDED and self._notified < self.notify_cap:
                self._notified += 1
                notify.publish_sync(pipe, self.keys.notify, type_, data, library_id=self.library_id)
        await pipe.execute()
        self.published += len(batch)

    async def completed(self, summary: dict[str, Any]) -> None:
        """Flush item events, then report the end of the scan."""
        await self.flush()
        await self._send(events.SCAN_COMPLETED, {"library_id": self.library_id, **summary})

    async def _send(self, type_: str, data: dict[str, Any]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        events.publish_sync(pipe, self.keys.events, events.build(type_, SOURCE, data))
        notify.publish_sync(pipe, self.keys.notify, type_, data, library_id=self.library_id)
        await pipe.execute()
