"""One reaper pass (on ``io.yaffw.lease.tick``). Every step is idempotent: delivery is at least once
and two reapers may run at the same time.

1. Dead workers (``worker:{id}`` heartbeat gone): jobs in their ``processing:{id}`` go back to the
   queue when the session's lease is alive (dropped otherwise); the worker is unregistered.
2. ``map:session:*`` routes and ``active:transcode`` entries of dead workers or lapsed leases are
   removed.
3. Playback sessions whose lease lapsed are closed: final position to ``user_item_data``, a
   ``playback.stopped`` activity entry (once per session), the CloudEvent and a notification.
4. The activity log's next month partition is created and those past retention dropped.
5. The event stream is trimmed to ``YAFFW_EVENT_RETENTION_SECONDS`` (entries older than that go).

The worker routes, heartbeats, held jobs and leases are read and changed through the session protocol
(:mod:`yaffw.routing`), which requeues a session once even when an api replica notices the dead
worker at the same time.

Closing a session also frees its slot in the owner's per-user limit (``yaffw.user_limits``; a slot
whose lease lapsed no longer counts anyway, so a reaper that is late holds nobody back).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

import asyncpg
from yaffw import activity, events, notify, sessions, user_limits, userdata
from yaffw.errors import YaffwError
from yaffw.keys import Keys
from yaffw.media import hls
from yaffw.queue import JobPayload
from yaffw.routing import Routing
from yaffw.settings import Settings

log = logging.getLogger(__name__)

SOURCE = "/yaffw/lease-reaper"
_STOPPED = "playback.stopped"


class Reaper:
    """Cleans Redis and closes sessions; ``conn`` is one PostgreSQL connection, ``redis`` asyncio."""

    def __init__(self, settings: Settings, redis: Any, conn: asyncpg.Connection):
        self.settings = settings
        self.redis = redis
        self.conn = conn
        self.keys = Keys(settings.redis_prefix)
        self.routing = Routing(redis, self.keys)
        self.counts: Counter[str] = Counter()

    async def tick(self) -> dict[str, Any]:
        """Run every step; returns what it did (counts, partitions)."""
        dead = await self._dead_workers()
        await self._routes(dead)
        await self._active(dead)
        await self._sessions()
        partitions = await activity.ensure_partitions(self.conn, self.settings.activity_retention_months)
        await events.trim(self.redis, self.keys.events, self.settings.event_retention_seconds)
        return {**self.counts, "partitions": partitions}

    async def _worker_dead(self, worker_id: str) -> bool:
        return not worker_id or not await self.routing.worker_alive(worker_id)

    async def _dead_workers(self) -> set[str]:
        dead = set()
        for worker_id in await self.routing.registered_workers():
            if not await self._worker_dead(worker_id):
                continue
            dead.add(worker_id)
            for raw, job in await self.routing.held(worker_id):
                if job is not None and await self.routing.lease_alive(job.sid):
                    nxt = job.at_segment(await self._resume_segment(job))
                    # Once: an api replica that noticed the dead worker first has queued it already.
                    if await self.routing.requeue(nxt, held_by=worker_id):
                        self.counts["jobs_requeued"] += 1
                else:
                    await self.routing.ack(worker_id, raw)
                    self.counts["jobs_dropped"] += 1
            # Unregister only once nothing is held: a job pushed meanwhile is seen next tick.
            if await self.routing.forget_worker(worker_id):
                self.counts["workers_removed"] += 1
            log.info("worker %s is dead: its jobs were requeued", worker_id)
        return dead

    async def _resume_segment(self, job: JobPayload) -> int:
        """Where the player is: the session's reported position, else where the job started."""
        position = await self.redis.hget(self.keys.session(job.sid), "position_seconds")
        try:
            seconds = float(position or 0)
        except ValueError:
            seconds = 0.0
        # Transcoded segments (the ramp, then every S seconds); for copied video the worker clamps.
        starts = hls.fixed_boundaries(seconds + job.segment_seconds, job.segment_seconds, ramp=job.short_start)
        return max(job.start_segment, hls.segment_at(starts, seconds))

    async def _routes(self, dead: set[str]) -> None:
        async for sid, route in self.routing.routes():
            owner = route.owner
            lapsed = not await self.routing.lease_alive(sid)
            stale = lapsed or owner in dead or (owner and await self._worker_dead(owner))
            if stale and await self.routing.clear_route(sid, route.address):
                self.counts["routes_cleared"] += 1

    async def _active(self, dead: set[str]) -> None:
        for running in await self.routing.running():
            if (
                running.worker_id in dead
                or await self._worker_dead(running.worker_id)
                or not await self.routing.lease_alive(running.sid)
            ):
                await self.routing.remove_running(running)
                self.counts["active_removed"] += 1

    async def _sessions(self) -> None:
        now = time.time()
        for sid in await self.redis.smembers(self.keys.sessions):
            if await self.routing.lease_alive(sid):
                continue
            session = await sessions.get(self.redis, self.keys, sid)
            if session is None:
                await self.redis.srem(self.keys.sessions, sid)
                continue
            # A session just opened may not have been renewed yet; give it one lease period.
            if now - max(session.updated_at, session.created_at) < self.settings.lease_seconds:
                continue
            await self._close(session)

    async def _close(self, session: sessions.PlaybackSession) -> None:
        """Record the end of a lapsed session, then remove it (safe to repeat)."""
        data = {"sid": session.sid, "user_id": session.user_id, "user_name": session.user_name,
                "item_id": session.item_id, "item_name": session.item_name, "method": session.method,
                "position_seconds": session.position_seconds, "reason": "lease lapsed"}  # fmt: skip
        async with self.conn.transaction():
            # Serialise concurrent reapers on this session, then write the stop only once.
            await self.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", session.sid)
            done = await self.conn.fetchval(
                "SELECT 1 FROM activity_log WHERE type = $1 AND data->>'sid' = $2 AND at > now() - interval '2 days'",
                _STOPPED, session.sid,
            )  # fmt: skip
            if not done:
                if session.position_seconds > 0:
                    try:
                        await userdata.update(self.conn, session.user_id, session.item_id,
                                              position_seconds=session.position_seconds,
                                              duration_seconds=session.duration_seconds)  # fmt: skip
                    except YaffwError as exc:  # item or user deleted meanwhile: nothing to save
                        log.info("session %s: position not saved: %s", session.sid, exc.message)
                await activity.write(self.conn, _STOPPED, f"{session.user_name}'s playback of "
                                     f"{session.item_name} ended (client gone)", user_id=session.user_id,
                                     item_id=session.item_id, data=data)  # fmt: skip
        if not done:
            await notify.publish(self.redis, self.keys.notify, events.PLAYBACK_STOPPED, data, admin_only=True)
            await events.publish(self.redis, self.keys.events, events.build(events.PLAYBACK_STOPPED, SOURCE, data))
        await sessions.delete(self.redis, self.keys, session.sid)
        await user_limits.release(self.redis, self.keys, session.user_id, session.sid)
        await self.routing.close(session.sid)
        self.counts["sessions_closed"] += 1
        log.info("session %s closed: lease lapsed", session.sid)
