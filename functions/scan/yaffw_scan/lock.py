"""One scan per library at a time, across every scan replica (Redis ``lock:scan:{library}``).

A request that finds the lock held is not refused and does not wait: it is added to the library's
pending set, and the holder runs the pending requests before it lets go. Both steps are Lua scripts,
so a request can never slip in between the holder's last look at the set and its release. A holder
that dies loses the lock after ``ttl_ms`` (it renews while alive); what was pending is run by the
next scan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from yaffw.keys import Keys

log = logging.getLogger(__name__)

WHOLE_LIBRARY = "*"
PENDING_TTL_MS = 86_400_000

_ACQUIRE = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
redis.call('sadd', KEYS[2], ARGV[3])
redis.call('pexpire', KEYS[2], ARGV[4])
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return false end
local pending = redis.call('smembers', KEYS[2])
if #pending > 0 then
  redis.call('del', KEYS[2])
  redis.call('pexpire', KEYS[1], ARGV[2])
  return pending
end
redis.call('del', KEYS[1])
return {}
"""
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
_DROP = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class ScanLock:
    """The lock for one library, held by this process while ``held`` is true."""

    def __init__(self, redis: Any, keys: Keys, library_id: str, *, ttl_ms: int = 60_000):
        self.redis = redis
        self.key = keys.scan_lock(library_id)
        self.pending_key = keys.scan_pending(library_id)
        self.ttl_ms = ttl_ms
        self.token = uuid.uuid4().hex
        self.held = False
        self._renewer: asyncio.Task[None] | None = None

    async def acquire_or_queue(self, request: str) -> bool:
        """Take the lock (True), or leave ``request`` (a path or ``*``) for the holder (False)."""
        got = await self.redis.eval(
            _ACQUIRE, 2, self.key, self.pending_key, self.token, self.ttl_ms, request, PENDING_TTL_MS
        )
        self.held = bool(int(got))
        if self.held:
            self._renewer = asyncio.create_task(self._renew_forever())
        return self.held

    async def release_or_next(self) -> list[str]:
        """Let go, unless requests are pending: then keep the lock and return them (``[]`` = released)."""
        pending = await self.redis.eval(_RELEASE, 2, self.key, self.pending_key, self.token, self.ttl_ms)
        if pending is None:
            log.warning("scan lock %s was lost (expired while held?)", self.key)
            pending = []
        if not pending:
            await self._stop()
        return sorted(pending)

    async def drop(self) -> None:
        """Let go without looking at pending requests (after a failure: the next scan runs them)."""
        await self._stop()
        await self.redis.eval(_DROP, 1, self.key, self.token)

    async def _stop(self) -> None:
        self.held = False
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                if not await self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms):
                    log.warning("scan lock %s was lost; another scan may start", self.key)
                    return
            except Exception as exc:  # a Redis blip: keep scanning, try again next tick
                log.warning("could not renew scan lock %s: %s", self.key, exc)


def merge_requests(requests: list[str]) -> list[str | None]:
    """Pending requests as scans to run: ``[None]`` (whole library) if any asked for it, else each
    path once, without paths inside another requested path."""
    if WHOLE_LIBRARY in requests:
        return [None]
    paths = sorted(set(requests), key=len)
    kept: list[str] = []
    for p in paths:
        if not any(p == k or p.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(p)
    return list(kept)
