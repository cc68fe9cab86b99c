"""Where openings are kept (issue 13): their names in the object store, their index in Redis, and
forgetting an item's.

Shared by the transcode worker, which writes and reads openings (``yaffw_transcode/openings.py``),
and the scan, which forgets the openings of a film it removes or whose file changed: those can never
be used again (an opening's key holds the file's path, size and mtime), so they would only cost
space until a bucket lifecycle rule found them.

- Objects: ``openings/<item>/<key>/<n>.ts`` for ``n`` in ``0 .. count-1``, then
  ``openings/<item>/<key>/count`` holding ``count``.
- Index: the Redis hash ``opening:<item>`` (:meth:`yaffw.keys.Keys.opening`), field ``key``, value
  ``count``, set only once every object is stored and kept :data:`INDEX_TTL` from its last use. One
  hash per item, so forgetting an item is one ``DEL`` rather than a scan of the keyspace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from yaffw.keys import Keys
from yaffw.storage import ObjectStore

log = logging.getLogger(__name__)

ROOT = "openings"
# The index of an item lives this long after its last use; an expired one is set again by the next
# opening request of the scan or the next playback from the start.
INDEX_TTL = 90 * 86400


def item_prefix(item_id: str) -> str:
    """The object-name prefix of every opening of an item (ends with ``/``)."""
    return f"{ROOT}/{item_id}/"


def object_name(item_id: str, key: str, leaf: str) -> str:
    """The name of one object (``<n>.ts`` or ``count``) of the item's opening ``key``."""
    return f"{item_prefix(item_id)}{key}/{leaf}"


async def indexed(redis: Any, keys: Keys, item_id: str, key: str) -> int | None:
    """The segment count the index holds for the opening (its TTL renewed), or None."""
    pipe = redis.pipeline(transaction=False)
    pipe.hget(keys.opening(item_id), key)
    pipe.expire(keys.opening(item_id), INDEX_TTL)
    raw, _ = await pipe.execute()
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


async def index(redis: Any, keys: Keys, item_id: str, key: str, count: int) -> None:
    """Record that the opening ``key`` of the item is whole in the store, with ``count`` segments."""
    pipe = redis.pipeline(transaction=False)
    pipe.hset(keys.opening(item_id), key, str(count))
    pipe.expire(keys.opening(item_id), INDEX_TTL)
    await pipe.execute()


async def forget(store: ObjectStore, redis: Any, keys: Keys, item_ids: Iterable[str]) -> int:
    """Delete every opening of ``item_ids``: the index first (so no session starts fetching one that
    is going), then the objects. Returns how many objects were deleted. Failures are logged, not
    raised: a stray opening only costs space, and its caller (a scan) must not fail for it."""
    ids = list(item_ids)
    if not ids:
        return 0
    try:
        await redis.delete(*(keys.opening(i) for i in ids))
    except Exception as exc:
        log.warning("openings: cannot drop the index of %d items: %s", len(ids), exc)
    deleted = 0
    for item_id in ids:
        try:
            deleted += await asyncio.to_thread(store.delete_prefix, item_prefix(item_id))
        except Exception as exc:
            log.warning("openings: cannot delete the openings of %s: %s", item_id, exc)
    return deleted
