"""Films' first segments in object storage, shared by every worker (issue 13; lib/yaffw/opening_queue.py).

The first-segment cache (``first_segments.py``) helps a film played before *on this machine*; a worker
scaled from zero, or another node, starts empty. Openings are the same segments kept in the object
store the scan already writes images to, so any worker's first session of a film finds them:

- Named and indexed as ``yaffw.opening_store`` says: the segments, then their count, under
  ``openings/<item>/<key>/``; ``key`` is :func:`first_segments.run_key` (the encoder's command line
  and the file's size and mtime), so an entry is exactly what this worker's encoder would make, and a
  changed file or setting simply misses.
- Once the count is stored, the Redis hash ``opening:<item>`` says so: a session asks Redis (well
  under a millisecond) rather than the store whether there is an entry, so a film without one starts
  its encoder at once. A session with an entry fetches segment 0 before it answers ``ready`` and the
  others behind it while the player starts (``session.py``).
- Written by a worker that ran a film from segment 0 (its first playback anywhere) and by an idle
  worker making the opening the scan asked for (``prepare.py``).

The scan forgets the openings of a film it removes or whose file changed (``opening_store.forget``);
those of a changed encoder setting stay until a bucket lifecycle rule drops them (about 1.6 MB each).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Any

from yaffw import opening_store
from yaffw.errors import NotFound
from yaffw.keys import Keys
from yaffw.storage import ObjectStore

log = logging.getLogger(__name__)

CONTENT_TYPE = "video/mp2t"


class Openings:
    """Openings in ``store`` (None: off, ``YAFFW_OPENINGS=0``), indexed in Redis."""

    def __init__(self, store: ObjectStore | None, redis: Any, keys: Keys) -> None:
        self.store = store
        self.redis = redis
        self.keys = keys

    @property
    def enabled(self) -> bool:
        """False when openings are off."""
        return self.store is not None

    async def _indexed(self, item_id: str, key: str) -> int | None:
        """The segment count Redis holds for the entry (its TTL renewed), or None."""
        try:
            return await opening_store.indexed(self.redis, self.keys, item_id, key)
        except Exception as exc:  # a Redis blip only costs the fast start: the encoder makes them
            log.warning("openings: cannot read the index of %s/%s: %s", item_id, key, exc)
            return None

    async def _index(self, item_id: str, key: str, count: int) -> None:
        await opening_store.index(self.redis, self.keys, item_id, key, count)

    async def has(self, item_id: str, key: str, count: int) -> bool:
        """True when a whole entry of ``count`` segments is stored (an entry the index lost is
        indexed again)."""
        if self.store is None:
            return False
        if await self._indexed(item_id, key) == count:
            return True
        try:
            raw = await asyncio.to_thread(self.store.get, opening_store.object_name(item_id, key, "count"))
        except NotFound:
            return False
        except Exception as exc:  # the store down: making it now would not be stored either
            log.warning("openings: cannot read %s/%s: %s", item_id, key, exc)
            return False
        if raw.decode(errors="replace").strip() != str(count):
            return False
        await self._index(item_id, key, count)
        return True

    async def indexed(self, item_id: str, key: str) -> int | None:
        """How many segments the whole entry ``key`` of the item holds, or None when there is none."""
        return await self._indexed(item_id, key) if self.store is not None else None

    async def fetch(self, item_id: str, key: str, n: int, dest: Path) -> bool:
        """Write segment ``n`` of the entry to ``dest``; False when it cannot be read (nothing is left
        at ``dest`` then)."""
        if self.store is None:
            return False
        try:
            blob = await asyncio.to_thread(self.store.get, opening_store.object_name(item_id, key, f"{n}.ts"))
        except Exception as exc:  # gone from the store (a lifecycle rule) or the store down
            log.warning("openings: cannot read segment %d of %s/%s: %s", n, item_id, key, exc)
            return False
        await asyncio.to_thread(_write, blob, dest)
        return True

    async def publish(self, item_id: str, key: str, files: list[Path]) -> bool:
        """Store ``files`` (segments ``0 .. len-1``) as the entry, then index it; False on failure."""
        if self.store is None:
            return False
        try:
            await asyncio.to_thread(self._publish, item_id, key, files)
            await self._index(item_id, key, len(files))
        except Exception as exc:  # e.g. a segment evicted meanwhile, or the store down: nothing is lost
            log.warning("openings: cannot store %s/%s: %s", item_id, key, exc)
            return False
        log.info("openings: stored %d segments of %s (%s)", len(files), item_id, key)
        return True

    def _publish(self, item_id: str, key: str, files: list[Path]) -> None:
        assert self.store is not None
        blobs = [f.read_bytes() for f in files]  # all read first: a file gone means no entry at all
        for n, blob in enumerate(blobs):
            self.store.put(opening_store.object_name(item_id, key, f"{n}.ts"), blob, CONTENT_TYPE)
        self.store.put(opening_store.object_name(item_id, key, "count"), str(len(files)).encode(), "text/plain")


def _write(blob: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(blob)
    tmp.replace(path)  # atomic: a reader never sees half a segment
