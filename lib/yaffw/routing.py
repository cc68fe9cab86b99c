"""The session protocol between the api, the transcode workers and the reaper (DESIGN §3, §5.3-4).

This module is the only code that reads or writes the protocol's Redis keys (``queue:transcode``,
``processing:{id}``, ``worker:{id}``, ``workers``, ``active:transcode``, ``map:session:{sid}``,
``events:session:{sid}``, ``lease:session:{sid}``, ``pending:session:{sid}``) and the ``worker``
field of ``session:{sid}``; the functions call :class:`Routing` (``tests/test_routing_static.py``
checks). :mod:`yaffw.queue` and :mod:`yaffw.leases` are its primitives.

One transcoded playback session ``sid``:

- api: :meth:`Routing.renew` the lease on every request; :meth:`Routing.ensure_job` queues the job
  once while no worker serves it (pre-warm); :meth:`Routing.route` and :meth:`Routing.owner_alive`
  say where to send a segment request (:func:`segment_url`, answered per :func:`classify`);
  :meth:`Routing.requeue` gives the session to another worker at a segment when its owner is gone —
  exactly once however many requests and replicas notice at the same time; :meth:`Routing.listen`
  waits for the worker's ``ready`` / ``failed`` (:class:`SessionMessage`); :meth:`Routing.close`
  ends the session.
- worker: :meth:`Routing.take` a job, :meth:`Routing.claim` the session (route and owner together,
  refused while another live worker owns it), :meth:`Routing.publish`, :meth:`Routing.check` its
  sessions' leases and routes every second, :meth:`Routing.release` and :meth:`Routing.ack` at the
  end, :meth:`Routing.requeue` on drain.
- reaper: :meth:`Routing.registered_workers`, :meth:`Routing.held`, :meth:`Routing.requeue` of a dead
  worker's jobs, :meth:`Routing.forget_worker`, :meth:`Routing.routes`, :meth:`Routing.running`.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any, Literal

from yaffw import leases, queue
from yaffw.errors import BadInput, Unavailable
from yaffw.keys import Keys
from yaffw.queue import JobPayload

HEARTBEAT_EVERY = leases.HEARTBEAT_EVERY

# -- the api ↔ worker segment request ------------------------------------------------------------
# ``GET http://{address}/sessions/{sid}/{variant}/{n}.ts?wait=S``: the worker waits up to S seconds
# (at most MAX_WAIT) for the segment. Errors are ``{"error": {"code", "message"}}`` with these codes.
SEGMENT_ROUTE = r"/sessions/{sid}/{variant}/{n:\d+}.ts"  # aiohttp's pattern on the worker
WAIT_PARAM = "wait"
MAX_WAIT = 30.0
DEFAULT_WAIT = 8.0
UNKNOWN_SESSION = "unknown_session"  # 404: this worker does not serve the session → requeue
NO_SEGMENT = "not_found"  # 404: no such variant or segment number
BEYOND_END = "beyond_end"  # 404: past the end of the media streams
NOT_READY = "not_ready"  # 503 + Retry-After: being made, not ready within the wait
TRANSCODE_FAILED = "transcode_failed"  # 502: FFmpeg cannot make it
BAD_WAIT = "bad_input"  # 400: the wait is not a number


class Answer(enum.Enum):
    """What a worker's answer to a segment request means for the api."""

    SEGMENT = "segment"  # 200: stream it
    NOT_READY = "not_ready"  # ask again while time is left
    GONE = "gone"  # the worker does not serve the session: fail over
    BEYOND_END = "beyond_end"  # 404 to the player
    FAILED = "failed"  # transcoding failed


def segment_url(address: str, sid: str, variant: str, n: int) -> str:
    """The worker's URL of segment ``n`` of ``variant`` (add ``?wait=`` as :data:`WAIT_PARAM`)."""
    return f"http://{address}/sessions/{sid}/{variant}/{n}.ts"


def classify(status: int, code: str) -> Answer:
    """Map a worker's status and error code to what the api does next."""
    if status == 200:
        return Answer.SEGMENT
    if status == 404 and code == BEYOND_END:
        return Answer.BEYOND_END
    if status == 404:
        return Answer.GONE  # unknown_session, or a worker that knows the session by another plan
    if status == 503:
        return Answer.NOT_READY
    return Answer.FAILED


# -- the ready / failed message ------------------------------------------------------------------
@dataclass(frozen=True)
class SessionMessage:
    """``ready`` (the job's first segment is made) or ``failed``, on ``events:session:{sid}``."""

    kind: Literal["ready", "failed"]
    sid: str
    worker: str = ""
    address: str = ""
    segment: int | None = None
    variant: str | None = None
    error: str = ""

    def to_json(self) -> str:
        """The published form (``type`` names the kind, as earlier releases sent it)."""
        data: dict[str, Any] = {"type": self.kind, "sid": self.sid, "worker": self.worker, "address": self.address}
        if self.kind == "ready":
            data.update(segment=self.segment, variant=self.variant)
        else:
            data["error"] = self.error
        return json.dumps(data)

    @classmethod
    def from_json(cls, raw: str | bytes) -> SessionMessage | None:
        """Parse a published message; None for anything that is not a ready/failed message."""
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("type") not in ("ready", "failed"):
            return None
        segment = data.get("segment")
        return cls(
            kind=data["type"], sid=str(data.get("sid") or ""), worker=str(data.get("worker") or ""),
            address=str(data.get("address") or ""), segment=segment if isinstance(segment, int) else None,
            variant=str(data["variant"]) if data.get("variant") else None, error=str(data.get("error") or ""),
        )  # fmt: skip


@dataclass(frozen=True)
class Route:
    """Where a session is served: the worker's ``host:port`` and its id ("" just after a claim)."""

    address: str
    owner: str


@dataclass(frozen=True)
class Running:
    """One ``active:transcode`` entry: a session a worker runs."""

    entry: str
    sid: str
    worker_id: str


class SessionCheck(enum.Enum):
    """A worker's session as the protocol sees it (:meth:`Routing.check`)."""

    OK = "ok"
    LEASE_LAPSED = "lease lapsed"
    TAKEN_OVER = "taken over"


# Route and owner together, so an api never sees the new route with the old (dead) owner; refused
# while another worker whose heartbeat still names the route owns it. Only an existing session hash
# gets the owner: a stopped session is not resurrected as a stub.
# KEYS: route, session hash, active list. ARGV: address, worker id, heartbeat key prefix, active entry, sid.
_CLAIM = """
local route = redis.call('get', KEYS[1])
local owner = redis.call('hget', KEYS[2], 'worker')
if route and route ~= ARGV[1] and owner and owner ~= '' and owner ~= ARGV[2]
   and redis.call('get', ARGV[3] .. owner) == route then
  return 0
end
if owner and owner ~= '' and owner ~= ARGV[2] then
  redis.call('lrem', KEYS[3], 0, ARGV[5] .. ' ' .. owner)  -- the previous (dead) owner's entry
end
redis.call('set', KEYS[1], ARGV[1])
if redis.call('exists', KEYS[2]) == 1 then redis.call('hset', KEYS[2], 'worker', ARGV[2]) end
redis.call('lrem', KEYS[3], 0, ARGV[4])
redis.call('lpush', KEYS[3], ARGV[4])
return 1
"""

# Requeue once: clear the stale route (if it still names that address), drop the session's entries
# from the previous owner's processing list, and push the job only if no job for the session is
# pending — the pending marker is set in the same step, so of N concurrent requeuers one pushes.
# KEYS: route, pending, queue[, processing]. ARGV: address to clear or '', sid, job, start, ttl.
_REQUEUE = """
if ARGV[1] ~= '' and redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
if #KEYS == 4 then
  for _, raw in ipairs(redis.call('lrange', KEYS[4], 0, -1)) do
    local ok, job = pcall(cjson.decode, raw)
    if ok and type(job) == 'table' and job['sid'] == ARGV[2] then redis.call('lrem', KEYS[4], 1, raw) end
  end
end
if not redis.call('set', KEYS[2], ARGV[4], 'NX', 'EX', tonumber(ARGV[5])) then return 0 end
redis.call('rpush', KEYS[3], ARGV[3])
return 1
"""

# Unregister a dead worker only once it holds nothing (a job pushed meanwhile is seen next pass).
# KEYS: processing list, workers set. ARGV: worker id.
_FORGET = """
if redis.call('llen', KEYS[1]) > 0 then return 0 end
return redis.call('srem', KEYS[2], ARGV[1])
"""


class Listener:
    """A subscription to one session's ``ready`` / ``failed`` (made before requeueing, so the
    worker's message cannot be missed). Close it with :meth:`close`."""

    def __init__(self, routing: Routing, pubsub: Any, sid: str):
        self._routing = routing
        self._pubsub = pubsub
        self.sid = sid

    async def wait(self, deadline: float) -> bool:
        """Until ``deadline`` (``time.monotonic()``): True once a worker serves the session, False on
        timeout.

        :raises Unavailable: (``transcode_failed``) when the worker reports the session failed.
        """
        while (remaining := deadline - time.monotonic()) > 0:
            msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=min(0.5, remaining))
            message = SessionMessage.from_json(msg["data"]) if msg is not None else None
            if message is not None and message.kind == "failed":
                raise Unavailable(f"transcoding failed: {message.error}"[:300], code=TRANSCODE_FAILED)
            if message is not None and message.kind == "ready":
                return True
            # The message may have come before we subscribed: the route says the same.
            if await self._routing.route(self.sid) is not None:
                return True
        return False

    async def close(self) -> None:
        """Unsubscribe and return the connection."""
        await self._pubsub.aclose()


@dataclass(frozen=True)
class Routing:
    """The protocol bound to one Redis client (``redis.asyncio``, string replies) and key prefix."""

    redis: Any
    keys: Keys

    # -- leases ----------------------------------------------------------------------------------
    async def renew(self, sid: str, seconds: int) -> None:
        """Extend the session's lease (every proxied request and progress report)."""
        await leases.renew(self.redis, self.keys, sid, seconds)

    async def lease_alive(self, sid: str) -> bool:
        """True while the session's lease has not lapsed."""
        return await leases.alive(self.redis, self.keys, sid)

    # -- routes and owners -----------------------------------------------------------------------
    async def route(self, sid: str) -> Route | None:
        """Where the session is served, or None while no worker has claimed it."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(self.keys.session_map(sid))
            pipe.hget(self.keys.session(sid), "worker")
            address, owner = await pipe.execute()
        return Route(address, owner or "") if address else None

    async def owner(self, sid: str) -> str:
        """The id of the worker that last claimed the session ("" for none)."""
        owner: str | None = await self.redis.hget(self.keys.session(sid), "worker")
        return owner or ""

    async def owner_alive(self, route: Route) -> bool:
        """Whether the route's worker is alive (its heartbeat). A route without an owner yet is taken
        as alive: the claim sets both at once, so only a stub session lacks it; a refused
        connection tells."""
        if not route.owner:
            return True
        return await leases.worker_address(self.redis, self.keys, route.owner) is not None

    async def worker_address(self, worker_id: str) -> str | None:
        """The live worker's ``host:port``, or None when its heartbeat is missing."""
        return await leases.worker_address(self.redis, self.keys, worker_id)

    async def worker_alive(self, worker_id: str) -> bool:
        """True while the worker's heartbeat is present."""
        return await leases.worker_address(self.redis, self.keys, worker_id) is not None

    async def clear_route(self, sid: str, address: str) -> bool:
        """Remove the session's route if it still names ``address``; returns whether it did."""
        return await leases.clear_route(self.redis, self.keys, sid, address)

    # -- jobs ------------------------------------------------------------------------------------
    async def ensure_job(self, job: JobPayload) -> bool:
        """Queue ``job`` unless a worker serves its session or a job for it waits; returns whether it
        did (the api pre-warms on the master playlist)."""
        if await self.redis.exists(self.keys.session_map(job.sid)):
            return False
        return await queue.enqueue_once(self.redis, self.keys, job)

    async def enqueue(self, job: JobPayload) -> None:
        """Append a new job (taken after those already waiting)."""
        await queue.enqueue(self.redis, self.keys, job)

    async def requeue(self, job: JobPayload, *, route: str | None = None, held_by: str | None = None) -> bool:
        """Give ``job``'s session to a worker at ``job.start_segment``, once: the stale ``route``
        (an address) is cleared if it still names it, the session's entries held by ``held_by`` (a
        dead or draining worker) are dropped, and the job is pushed to the front of the queue unless
        one for the session is already pending. Returns whether this call pushed it."""
        keys = [self.keys.session_map(job.sid), self.keys.session_pending(job.sid), self.keys.transcode_queue]
        if held_by:
            keys.append(self.keys.processing(held_by))
        pushed = await self.redis.eval(_REQUEUE, len(keys), *keys, route or "", job.sid, job.to_json(),
                                       str(job.start_segment), queue.PENDING_TTL)  # fmt: skip
        return bool(pushed)

    async def take(self, worker_id: str, timeout: float = 1.0) -> str | None:
        """Move the oldest job into the worker's processing list; its raw JSON, or None after
        ``timeout``. The session's pending marker is cleared once the job is parsed
        (:meth:`taken`)."""
        return await queue.take(self.redis, self.keys, worker_id, timeout)

    async def taken(self, sid: str) -> None:
        """A worker has the session's job: a later failover may queue a new one."""
        await self.redis.delete(self.keys.session_pending(sid))

    async def ack(self, worker_id: str, raw: str) -> None:
        """The worker is done with ``raw`` (finished, failed for good, or dropped as a duplicate)."""
        await queue.ack(self.redis, self.keys, worker_id, raw)

    async def held(self, worker_id: str) -> list[tuple[str, JobPayload | None]]:
        """Every job the worker holds as ``(raw, parsed or None if malformed)``."""
        return await queue.held(self.redis, self.keys, worker_id)

    # -- workers ---------------------------------------------------------------------------------
    async def heartbeat(self, worker_id: str, address: str, ttl: int = leases.HEARTBEAT_TTL) -> None:
        """Refresh the worker's heartbeat (``host:port``, lives ``ttl`` seconds) and register it."""
        await leases.heartbeat(self.redis, self.keys, worker_id, address, ttl)

    async def unregister(self, worker_id: str) -> None:
        """A worker that stopped: heartbeat and registration removed."""
        await leases.unregister(self.redis, self.keys, worker_id)

    async def registered_workers(self) -> set[str]:
        """Every worker id that registered and was not forgotten."""
        return set(await self.redis.smembers(self.keys.workers))

    async def forget_worker(self, worker_id: str) -> bool:
        """Unregister a dead worker if it holds no job; returns whether it did."""
        keys = (self.keys.processing(worker_id), self.keys.workers)
        return bool(await self.redis.eval(_FORGET, 2, *keys, worker_id))

    # -- claiming and serving --------------------------------------------------------------------
    async def claim(self, sid: str, address: str, worker_id: str) -> bool:
        """Make this worker the session's owner: route, owner field and ``active:transcode`` entry
        at once. False (nothing written) while another worker whose heartbeat is alive owns it."""
        args = (address, worker_id, self.keys.worker(""), leases.active_entry(sid, worker_id), sid)
        keys = (self.keys.session_map(sid), self.keys.session(sid), self.keys.active_transcode)
        return bool(await self.redis.eval(_CLAIM, 3, *keys, *args))

    async def publish(self, message: SessionMessage) -> None:
        """Send ``ready`` / ``failed`` to every api request waiting for the session."""
        await self.redis.publish(self.keys.session_events(message.sid), message.to_json())

    async def listen(self, sid: str) -> Listener:
        """Subscribe to the session's ``ready`` / ``failed``; close the listener when done."""
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.keys.session_events(sid))
        return Listener(self, pubsub, sid)

    async def check(self, sids: list[str], address: str) -> dict[str, SessionCheck]:
        """For a worker at ``address``: which of its sessions lost their lease or were taken over."""
        if not sids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for sid in sids:
                pipe.exists(self.keys.lease(sid))
                pipe.get(self.keys.session_map(sid))
            replies = await pipe.execute()
        out: dict[str, SessionCheck] = {}
        for i, sid in enumerate(sids):
            lease_ok, route = replies[2 * i], replies[2 * i + 1]
            if not lease_ok:
                out[sid] = SessionCheck.LEASE_LAPSED
            elif route and route != address:
                out[sid] = SessionCheck.TAKEN_OVER
            else:
                out[sid] = SessionCheck.OK
        return out

    async def release(self, sid: str, worker_id: str, address: str, *, keep_route: bool = False) -> None:
        """A worker stops serving ``sid``: its route (unless another took it, or ``keep_route``) and
        its ``active:transcode`` entry go."""
        if not keep_route:
            await leases.clear_route(self.redis, self.keys, sid, address)
        await self.redis.lrem(self.keys.active_transcode, 0, leases.active_entry(sid, worker_id))

    async def running(self) -> list[Running]:
        """Every ``active:transcode`` entry (the reaper removes those of dead workers or lapsed leases)."""
        out = []
        for entry in await self.redis.lrange(self.keys.active_transcode, 0, -1):
            sid, worker_id = leases.parse_active_entry(entry)
            out.append(Running(entry, sid, worker_id))
        return out

    async def remove_running(self, running: Running) -> None:
        """Drop one ``active:transcode`` entry."""
        await self.redis.lrem(self.keys.active_transcode, 0, running.entry)

    async def routes(self) -> AsyncIterator[tuple[str, Route]]:
        """Every session's route, as ``(sid, route)`` (a scan: routes may come and go meanwhile)."""
        pattern = self.keys.session_map("*")
        prefix = pattern[:-1]
        async for key in self.redis.scan_iter(match=pattern, count=500):
            sid = key[len(prefix) :]
            route = await self.route(sid)
            if route is not None:
                yield sid, route

    # -- closing ---------------------------------------------------------------------------------
    async def close(self, sid: str) -> None:
        """The playback ended: lease, route and pending marker go, so the worker ends its encoder
        within a second and no job for the session is taken any more."""
        await self.redis.delete(self.keys.lease(sid), self.keys.session_map(sid), self.keys.session_pending(sid))


def job_of(template: JobPayload | None, sid: str) -> JobPayload:
    """The session's job from its template (``session.job``), bound to ``sid``.

    :raises BadInput: for a session without one (direct play).
    """
    if template is None:
        raise BadInput("session has no job", code="bad_job")
    return template if template.sid == sid else replace(template, sid=sid)
