"""The transcode worker (DESIGN §3, §5; seed §3.2 and §7).

- takes jobs from the queue, at most ``YAFFW_WORKER_SESSIONS`` sessions at once;
- per session: FFmpeg into scratch, a claim (the session's route names this worker's ``host:port``),
  ``ready``/``failed`` to the api requests waiting for it;
- every second: ends sessions whose lease lapsed or that another worker took over;
- SIGTERM drains: each session goes back to the queue at the segment its player needs next, then
  the worker exits;
- with no session, makes the openings the scan asked for (``prepare.py``), dropping one the moment a
  playback job comes.

Every Redis key of that protocol is :mod:`yaffw.routing`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import asyncpg
from aiohttp import web
from yaffw import opening_queue, routing, storage
from yaffw.db import create_pool
from yaffw.errors import BadInput, NotFound, Unavailable
from yaffw.keys import Keys
from yaffw.logs import configure
from yaffw.media import ffmpeg, safe_path
from yaffw.media import source as media_source
from yaffw.queue import JobPayload
from yaffw.redis_client import async_client
from yaffw.routing import Routing, SessionCheck, SessionMessage
from yaffw.settings import Settings

from yaffw_transcode import metrics, server
from yaffw_transcode.first_segments import FirstSegments
from yaffw_transcode.openings import Openings
from yaffw_transcode.prepare import make_opening
from yaffw_transcode.session import TranscodeSession

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0
# Longest wait for a job's first segment before it is reported failed.
FIRST_SEGMENT_TIMEOUT = 120.0


def machine_address() -> str:
    """This machine's address as others reach it (the interface of the default route)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the route
        return s.getsockname()[0]
    return "127.0.0.1"


class Worker:
    """One worker process. ``run()`` serves until :meth:`stop` (or SIGTERM) and then drains."""

    def __init__(self, settings: Settings, redis: Any, pool: asyncpg.Pool, *, worker_id: str | None = None):
        self.settings = settings
        self.redis = redis
        self.pool = pool
        self.keys = Keys(settings.redis_prefix)
        self.routing = Routing(redis, self.keys)
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.address = f"{settings.advertise_host or machine_address()}:{settings.port}"
        self.hw = ffmpeg.hwaccel(settings.hwaccel, settings.vaapi_device)
        self.scratch = settings.scratch_dir / self.worker_id
        # Beside the workers' own folders: kept across worker restarts, shared by the machine's workers.
        self.first_segments = FirstSegments(settings.scratch_dir / "first-segments", settings.first_segment_cache)
        self.openings = Openings(storage.from_settings(settings) if settings.openings else None, redis, self.keys)
        self.sessions: dict[str, TranscodeSession] = {}
        self._preparing: tuple[str, asyncio.Task[str]] | None = None  # (item id, its task)
        self.draining = False
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Serve HTTP, take jobs and watch leases until stopped; then drain and unregister."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        runner = web.AppRunner(server.create_app(self), access_log=None, shutdown_timeout=5)
        await runner.setup()
        await web.TCPSite(runner, self.settings.host, self.settings.port).start()
        await self.routing.heartbeat(self.worker_id, self.address)
        log.info("worker %s serving on %s (hwaccel %s)", self.worker_id, self.address, self.hw.name)
        loops = [asyncio.create_task(f()) for f in (self._heartbeat_loop, self._take_loop, self._watch_loop)]
        await self._stop.wait()
        self.draining = True
        loops[1].cancel()  # stop taking jobs first
        await asyncio.gather(loops[1], return_exceptions=True)
        await self._stop_preparing()
        await self._drain()
        for t in loops:
            t.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await self.routing.unregister(self.worker_id)
        await runner.cleanup()
        shutil.rmtree(self.scratch, ignore_errors=True)
        log.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        """Begin draining (the SIGTERM handler)."""
        self._stop.set()

    async def _heartbeat_loop(self) -> None:
        while True:
            try:
                await self.routing.heartbeat(self.worker_id, self.address)
            except Exception:  # a Redis blip must not kill the loop; the next beat retries
                log.warning("heartbeat failed", exc_info=True)
            await asyncio.sleep(routing.HEARTBEAT_EVERY)

    # -- taking jobs -------------------------------------------------------------------------
    async def _take_loop(self) -> None:
        while True:
            if len(self.sessions) >= self.settings.worker_sessions:
                await asyncio.sleep(0.2)
                continue
            try:
                raw = await self.routing.take(self.worker_id, timeout=1)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("taking a job failed", exc_info=True)
                await asyncio.sleep(1)
                continue
            if raw is None:
                await self._maybe_prepare()
                continue
            await self._stop_preparing()  # a playback comes first
            try:
                await self._accept(raw)
            except Exception:  # one bad job must not stop the worker; it is dropped with its error
                log.exception("job failed to start: %s", raw[:300])
                await self.routing.ack(self.worker_id, raw)
                metrics.JOBS.labels("error").inc()

    async def _maybe_prepare(self) -> None:
        """With no session and no opening in the making, start the next opening the scan asked for."""
        if self.sessions or self._preparing is not None or not self.openings.enabled:
            return
        try:
            item_id = await opening_queue.take(self.redis, self.keys)
        except Exception:
            log.warning("taking an opening failed", exc_info=True)
            return
        if item_id is None:
            return
        task = asyncio.create_task(make_opening(self.pool, item_id, settings=self.settings, hw=self.hw,
                                                scratch=self.scratch, cache=self.first_segments,
                                                openings=self.openings))  # fmt: skip
        self._preparing = (item_id, task)
        task.add_done_callback(self._prepared)

    def _prepared(self, task: asyncio.Task[str]) -> None:
        if self._preparing is not None and self._preparing[1] is task:
            self._preparing = None
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("making an opening failed", exc_info=exc)
            metrics.OPENINGS.labels("failed").inc()
        else:
            metrics.OPENINGS.labels(task.result()).inc()

    async def _stop_preparing(self) -> None:
        """Cancel the opening in the making (its encoder stops) and queue its item again."""
        if self._preparing is None:
            return
        item_id, task = self._preparing
        self._preparing = None
        if task.done():
            return
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        metrics.OPENINGS.labels("interrupted").inc()
        try:
            await opening_queue.put_back(self.redis, self.keys, item_id)
        except Exception:  # only an optimisation: the film's first playback makes it instead
            log.warning("opening of %s not queued again", item_id, exc_info=True)

    async def _accept(self, raw: str) -> None:
        try:
            job = JobPayload.from_json(raw)
        except BadInput as exc:
            log.error("dropping malformed job: %s", exc.message)
            await self.routing.ack(self.worker_id, raw)
            metrics.JOBS.labels("malformed").inc()
            return
        await self.routing.taken(job.sid)
        lease_ok, route = await asyncio.gather(self.routing.lease_alive(job.sid), self.routing.route(job.sid))
        if not lease_ok:
            log.info("session %s: lease gone, dropping its job", job.sid)
            await self.routing.ack(self.worker_id, raw)
            metrics.JOBS.labels("abandoned").inc()
            return
        existing = self.sessions.get(job.sid)
        if existing is not None:
            # A new job for a session we serve (the api thought us gone, or a seek): reuse it.
            await self.routing.ack(self.worker_id, raw)
            await existing.start(job.variant, job.start_segment)
            if await self._claim(existing):
                self._spawn(self._announce(existing, job.start_segment))
            metrics.JOBS.labels("merged").inc()
            return
        if route and route.address != self.address and await self._route_alive(route):
            log.info("session %s: already served by %s, dropping duplicate job", job.sid, route.address)
            await self.routing.ack(self.worker_id, raw)
            metrics.JOBS.labels("duplicate").inc()
            return
        await self._start_session(job, raw)

    async def _route_alive(self, route: routing.Route) -> bool:
        """True while the route's owner is a live worker at that address (a claim would be refused)."""
        return bool(route.owner) and await self.routing.worker_address(route.owner) == route.address

    async def _start_session(self, job: JobPayload, raw: str) -> None:
        log.info("session %s: job taken at segment %d", job.sid, job.start_segment)
        try:
            src = await media_source.load(self.pool, job.item_id, job.audio_index, job.burn_subtitle)
            await self._check_input(src.path, job.item_id)
            plan = await media_source.plan(self.pool, src, job)
        except (NotFound, BadInput, Unavailable) as exc:  # NotFound includes safe_path.RefusedFile
            log.error("session %s: cannot transcode item %s: %s", job.sid, job.item_id, exc.message)
            await self._publish(job.sid, "failed", error=exc.message)
            await self.routing.ack(self.worker_id, raw)
            metrics.JOBS.labels("failed").inc()
            return
        start = min(job.start_segment, len(plan.starts) - 1)
        variant = job.variant if plan.variant(job.variant) else plan.variants[0].name
        session = TranscodeSession(job, raw, src, plan, self.scratch / job.sid, self.hw, self.first_segments,
                                   self.openings)  # fmt: skip
        self.sessions[job.sid] = session
        metrics.SESSIONS.set(len(self.sessions))
        metrics.JOBS.labels("started").inc()
        await session.start(variant, start)
        if await self._claim(session):
            self._spawn(self._announce(session, start))

    async def _check_input(self, path: str, item_id: str) -> None:
        """FFmpeg gets only a regular file inside the item's library folders (``yaffw.media.safe_path``).

        :raises RefusedFile: a link out of the library, a FIFO or a device. :raises NotFound: gone.
        """
        roots = await self.pool.fetchval(
            "SELECT l.paths FROM media_items i JOIN libraries l ON l.id = i.library_id WHERE i.id = $1::uuid", item_id
        )
        # In a thread: stat and open may wait on a slow share.
        await asyncio.to_thread(safe_path.check_media, path, list(roots or []))

    async def _claim(self, session: TranscodeSession) -> bool:
        """Route the session here (route, owner and active entry at once). When another live worker
        won it meanwhile, this copy ends and False is returned."""
        if await self.routing.claim(session.sid, self.address, self.worker_id):
            return True
        await self.end(session, "claimed by another worker", keep_route=True)
        metrics.JOBS.labels("duplicate").inc()
        return False

    async def _announce(self, session: TranscodeSession, n: int) -> None:
        started = time.monotonic()
        variant = session.last_variant
        if await session.wait_made(variant, n, FIRST_SEGMENT_TIMEOUT):
            metrics.FIRST_SEGMENT.observe(time.monotonic() - started)
            log.info("session %s: segment %d of %s made", session.sid, n, variant)
            await self._publish(session.sid, "ready", segment=n, variant=variant)
        elif not session.closed:
            await self._publish(session.sid, "failed", error=session.error or "no first segment")
            await self.end(session, "failed")

    async def _publish(self, sid: str, kind: Literal["ready", "failed"], *, segment: int | None = None,
                       variant: str | None = None, error: str = "") -> None:  # fmt: skip
        await self.routing.publish(SessionMessage(kind, sid, self.worker_id, self.address, segment=segment,
                                                  variant=variant, error=error))  # fmt: skip

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- watching leases ---------------------------------------------------------------------
    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY)
            try:
                await self._check_sessions()
            except Exception:
                log.warning("lease check failed", exc_info=True)

    async def _check_sessions(self) -> None:
        sessions = list(self.sessions.values())
        checks = await self.routing.check([s.sid for s in sessions], self.address)
        for s in sessions:
            check = checks[s.sid]
            if check is SessionCheck.LEASE_LAPSED:
                await self.end(s, "lease lapsed")
            elif check is SessionCheck.TAKEN_OVER:
                await self.end(s, "taken over by another worker", keep_route=True)
            else:
                s.check_throttle()

    async def end(self, session: TranscodeSession, why: str, *, keep_route: bool = False) -> None:
        """Stop a session: FFmpeg killed, scratch freed, its keys cleared, its job acked."""
        if self.sessions.get(session.sid) is not session:
            return
        del self.sessions[session.sid]
        metrics.SESSIONS.set(len(self.sessions))
        log.info("session %s ended: %s", session.sid, why)
        # Keys first, so no api routes a request here while FFmpeg is being stopped.
        await self._release(session, keep_route=keep_route)
        await self.routing.ack(self.worker_id, session.raw)
        await session.close()

    async def _release(self, session: TranscodeSession, *, keep_route: bool = False) -> None:
        await self.routing.release(session.sid, self.worker_id, self.address, keep_route=keep_route)

    # -- draining ----------------------------------------------------------------------------
    async def _drain(self) -> None:
        """Give every session back to the queue at the segment its player needs next."""
        for session in list(self.sessions.values()):
            del self.sessions[session.sid]
            nxt = session.resume_segment()
            job = session.job.at_segment(nxt, session.last_variant)
            try:
                await self.routing.requeue(job, route=self.address, held_by=self.worker_id)
                await self._release(session)
                log.info("session %s requeued at segment %d for another worker", session.sid, nxt)
            except Exception:
                log.exception("session %s could not be requeued; the reaper will", session.sid)
            await session.close()
        metrics.SESSIONS.set(0)


async def serve(settings: Settings) -> None:
    """Connect, run a worker until SIGTERM/SIGINT, drain, close."""
    settings.require("database_url", "redis_url")
    redis = async_client(settings.redis_url)
    pool = await create_pool(settings.database_url, min_size=1, max_size=4)
    worker = Worker(settings, redis, pool)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.stop)
    try:
        await worker.run()
    finally:
        await pool.close()
        await redis.aclose()


def main() -> None:
    """Entry point: ``python functions/transcode/main.py``."""
    settings = Settings.from_env()
    configure(settings.log_level, name="transcode")
    Path(settings.scratch_dir).mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(settings))
