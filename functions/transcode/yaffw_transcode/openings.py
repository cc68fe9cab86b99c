"""Films' first segments in object storage, shared by every worker (issue 13; lib/yaffw/opening_queue.py).

The first-segment cache (``first_segments.py``) helps a film played before *on this machine*; a worker
scaled from zero, or another node, starts empty. Openings are the same segments kept in the object
store the scan already writes images to, so any worker's first session of a film finds them:

- ``openings/<item>/<key>/<n>.ts`` for ``n`` in ``0 .. count-1``, then ``openings/<item>/<key>/count``
  holding ``count``, written last: a reader takes an entry only when its count is there and matches,
  so an upload cut short is never half used. ``key`` is :func:`first_segments.run_key` (the encoder's
  command line and the file's size and mtime), so an entry is exactly what this worker's encoder
  would make, and a changed file or setting simply misses.
- Written by a worker that ran a film from segment 0 (its first playback anywhere) and by an idle
  worker making the opening the scan asked for (``prepare.py``).

Entries of a film removed from the library stay until a bucket lifecycle rule drops them (about 1 MB
each); the item id in the name keeps them findable.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from yaffw.errors import NotFound
from yaffw.storage import ObjectStore

log = logging.getLogger(__name__)

CONTENT_TYPE = "video/mp2t"


class Openings:
    """Openings in ``store`` (None: off, ``YAFFW_OPENINGS=0``)."""

    def __init__(self, store: ObjectStore | None) -> None:
        self.store = store

    @property
    def enabled(self) -> bool:
        """False when openings are off."""
        return self.store is not None

    @staticmethod
    def _name(item_id: str, key: str, leaf: str) -> str:
        return f"openings/{item_id}/{key}/{leaf}"

    async def has(self, item_id: str, key: str, count: int) -> bool:
        """True when a whole entry of ``count`` segments is stored."""
        return await self._count(item_id, key) == count

    async def _count(self, item_id: str, key: str) -> int | None:
        if self.store is None:
            return None
        try:
            raw = await asyncio.to_thread(self.store.get, self._name(item_id, key, "count"))
        except NotFound:
            return None
        except Exception as exc:  # a store outage only costs the fast start: the encoder makes them
            log.warning("openings: cannot read %s/%s: %s", item_id, key, exc)
            return None
        try:
            return int(raw.decode())
        except ValueError:
            return None

    async def fetch(self, item_id: str, key: str, count: int, dest: list[Path]) -> bool:
        """Write segments ``0 .. count-1`` of the entry to ``dest`` (one path each); False when the
        entry is absent, incomplete or unreadable (nothing is left at ``dest`` then)."""
        if self.store is None or await self._count(item_id, key) != count:
            return False
        store = self.store
        try:
            blobs = await asyncio.gather(
                *(asyncio.to_thread(store.get, self._name(item_id, key, f"{n}.ts")) for n in range(count))
            )
        except Exception as exc:
            log.warning("openings: cannot read %s/%s: %s", item_id, key, exc)
            return False
        await asyncio.to_thread(_write_all, blobs, dest)
        return True

    async def publish(self, item_id: str, key: str, files: list[Path]) -> bool:
        """Store ``files`` (segments ``0 .. len-1``) as the entry, the count last; False on failure."""
        if self.store is None:
            return False
        try:
            await asyncio.to_thread(self._publish, item_id, key, files)
        except Exception as exc:  # e.g. a segment evicted meanwhile, or the store down: nothing is lost
            log.warning("openings: cannot store %s/%s: %s", item_id, key, exc)
            return False
        log.info("openings: stored %d segments of %s (%s)", len(files), item_id, key)
        return True

    def _publish(self, item_id: str, key: str, files: list[Path]) -> None:
        assert self.store is not None
        blobs = [f.read_bytes() for f in files]  # all read first: a file gone means no entry at all
        for n, blob in enumerate(blobs):
            self.store.put(self._name(item_id, key, f"{n}.ts"), blob, CONTENT_TYPE)
        self.store.put(self._name(item_id, key, "count"), str(len(files)).encode(), "text/plain")


def _write_all(blobs: list[bytes], dest: list[Path]) -> None:
    for blob, path in zip(blobs, dest, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        tmp.replace(path)
