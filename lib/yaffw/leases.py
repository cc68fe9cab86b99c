"""Session leases and worker heartbeats (DESIGN §3, seed §7).

- ``lease:session:{sid}``: the api renews it on every proxied HLS request and progress report. A
  worker ends a session whose lease is gone; the reaper closes the playback session.
- ``worker:{id}``: each worker refreshes ``host:port`` with a short TTL and registers its id in the
  set ``workers``; a missing heartbeat means the worker is dead and its jobs may be taken over.
- ``active:transcode`` holds one entry ``"<sid> <worker_id>"`` per running session (KEDA reads its
  length).
"""

from __future__ import annotations

from typing import Any

from yaffw.keys import Keys

HEARTBEAT_TTL = 15
HEARTBEAT_EVERY = 5.0


async def renew(redis: Any, keys: Keys, sid: str, seconds: int) -> None:
    """Extend the session's lease to ``seconds`` from now."""
    await redis.set(keys.lease(sid), "1", ex=seconds)


async def alive(redis: Any, keys: Keys, sid: str) -> bool:
    """True while the session's lease has not lapsed."""
    return bool(await redis.exists(keys.lease(sid)))


async def release(redis: Any, keys: Keys, sid: str) -> None:
    """End the lease now (playback stopped): the worker ends the session within a second or so."""
    await redis.delete(keys.lease(sid))


async def heartbeat(redis: Any, keys: Keys, worker_id: str, address: str, ttl: int = HEARTBEAT_TTL) -> None:
    """Refresh ``worker:{id}`` = ``host:port`` and register the id."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.worker(worker_id), address, ex=ttl)
        pipe.sadd(keys.workers, worker_id)
        await pipe.execute()


async def worker_address(redis: Any, keys: Keys, worker_id: str) -> str | None:
    """The live worker's ``host:port``, or None when its heartbeat is missing."""
    if not worker_id:
        return None
    address: str | None = await redis.get(keys.worker(worker_id))
    return address


async def unregister(redis: Any, keys: Keys, worker_id: str) -> None:
    """Remove a worker's heartbeat, registration and (empty) processing list."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.worker(worker_id))
        pipe.srem(keys.workers, worker_id)
        await pipe.execute()


def active_entry(sid: str, worker_id: str) -> str:
    """The ``active:transcode`` entry of one running session."""
    return f"{sid} {worker_id}"


def parse_active_entry(entry: str) -> tuple[str, str]:
    """``(sid, worker_id)`` of an ``active:transcode`` entry (worker id empty if malformed)."""
    sid, _, worker_id = entry.partition(" ")
    return sid, worker_id


# Delete the session's route only if it still names this address (KEYS[1] map, ARGV[1] address):
# a worker that lost a session to another must not clear the new owner's route.
_DELETE_IF = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


async def clear_route(redis: Any, keys: Keys, sid: str, address: str) -> bool:
    """Delete ``map:session:{sid}`` if it points to ``address``; returns whether it did."""
    return bool(await redis.eval(_DELETE_IF, 1, keys.session_map(sid), address))
