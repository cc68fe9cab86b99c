"""The session protocol (``yaffw.routing``) against real Redis: claim races, owner death, requeue
exactly once, ready/failed delivered to a waiting request, leases and closing."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
import redis.asyncio as redis_async
from yaffw import routing
from yaffw.errors import Unavailable
from yaffw.queue import JobPayload
from yaffw.routing import Answer, Route, Routing, SessionCheck, SessionMessage

N = 16  # concurrent claimers / requeuers (api replicas, workers)


@pytest.fixture
async def clients(settings):
    """N separate connections, so concurrent calls really race in Redis rather than queue on one."""
    made = [redis_async.Redis.from_url(settings.redis_url, decode_responses=True) for _ in range(N)]
    yield made
    for c in made:
        await c.aclose()


@pytest.fixture
def sid(redis, keys):
    return uuid.uuid4().hex


async def _forget(redis, keys, sid: str, *workers: str) -> None:
    await redis.delete(keys.session(sid), keys.session_map(sid), keys.lease(sid), keys.session_pending(sid))
    for w in workers:
        await redis.delete(keys.worker(w), keys.processing(w))
        await redis.srem(keys.workers, w)
    for entry in await redis.lrange(keys.active_transcode, 0, -1):
        if entry.startswith(sid):
            await redis.lrem(keys.active_transcode, 0, entry)
    for raw in await redis.lrange(keys.transcode_queue, 0, -1):
        if sid in raw:
            await redis.lrem(keys.transcode_queue, 0, raw)


def _job(sid: str, start: int = 0) -> JobPayload:
    return JobPayload(sid=sid, item_id=str(uuid.uuid4()), source_path="/m/film.mkv", start_segment=start)


async def _queued(redis, keys, sid: str) -> list[JobPayload]:
    return [JobPayload.from_json(r) for r in await redis.lrange(keys.transcode_queue, 0, -1) if sid in r]


async def test_claim_race_has_exactly_one_owner(redis, keys, clients, sid):
    """N live workers claim one session at the same moment: one wins; route, owner field and the
    active list all name it, and the losers wrote nothing."""
    workers = [f"w{i}-{uuid.uuid4().hex[:6]}" for i in range(N)]
    await redis.hset(keys.session(sid), mapping={"sid": sid, "worker": ""})
    try:
        for i, w in enumerate(workers):
            await Routing(redis, keys).heartbeat(w, f"10.0.0.{i}:8000")
        results = await asyncio.gather(
            *(
                Routing(c, keys).claim(sid, f"10.0.0.{i}:8000", w)
                for i, (c, w) in enumerate(zip(clients, workers, strict=True))
            )
        )
        assert sum(results) == 1
        winner = results.index(True)
        route = await Routing(redis, keys).route(sid)
        assert route == Route(f"10.0.0.{winner}:8000", workers[winner])
        active = [e for e in await redis.lrange(keys.active_transcode, 0, -1) if e.startswith(sid)]
        assert active == [f"{sid} {workers[winner]}"]
        # The owner claiming again (a merged job, a seek) keeps it; a live owner is not displaced.
        assert await Routing(redis, keys).claim(sid, f"10.0.0.{winner}:8000", workers[winner])
        loser = (winner + 1) % N
        assert not await Routing(redis, keys).claim(sid, f"10.0.0.{loser}:8000", workers[loser])
        assert (await Routing(redis, keys).route(sid)).owner == workers[winner]
    finally:
        await _forget(redis, keys, sid, *workers)


async def test_claim_does_not_resurrect_a_stopped_session(redis, keys, sid):
    r = Routing(redis, keys)
    try:
        assert await r.claim(sid, "10.0.0.1:8000", "w1")
        assert not await redis.exists(keys.session(sid))  # no stub hash with only `worker`
        assert await r.route(sid) == Route("10.0.0.1:8000", "")
        assert await r.owner_alive(Route("10.0.0.1:8000", ""))  # no owner yet: a refused connection tells
    finally:
        await _forget(redis, keys, sid, "w1")


async def test_owner_death_lets_another_worker_claim(redis, keys, sid):
    """The owner's heartbeat lapses: it is no longer alive and a new worker's claim succeeds."""
    r = Routing(redis, keys)
    dead, heir = f"dead-{sid[:6]}", f"heir-{sid[:6]}"
    await redis.hset(keys.session(sid), mapping={"sid": sid, "worker": ""})
    try:
        await r.heartbeat(dead, "10.0.0.1:8000", ttl=1)
        await r.heartbeat(heir, "10.0.0.2:8000")
        assert await r.claim(sid, "10.0.0.1:8000", dead)
        assert not await r.claim(sid, "10.0.0.2:8000", heir)  # owner alive: refused
        route = await r.route(sid)
        assert route is not None and await r.owner_alive(route)
        deadline = time.monotonic() + 5
        while await r.worker_alive(dead):
            assert time.monotonic() < deadline, "heartbeat did not lapse"
            await asyncio.sleep(0.1)
        assert not await r.owner_alive(route)
        assert await r.claim(sid, "10.0.0.2:8000", heir)
        assert await r.route(sid) == Route("10.0.0.2:8000", heir)
        active = [e for e in await redis.lrange(keys.active_transcode, 0, -1) if e.startswith(sid)]
        assert active == [f"{sid} {heir}"]
    finally:
        await _forget(redis, keys, sid, dead, heir)


async def test_dead_owner_requeued_once_by_concurrent_requeuers(redis, keys, clients, sid):
    """Several api replicas (and the reaper) notice the dead owner at once: one job is queued at the
    segment, the stale route is gone and the dead worker holds nothing of the session any more."""
    r = Routing(redis, keys)
    dead = f"dead-{sid[:6]}"
    held = _job(sid, 0)
    other = _job(uuid.uuid4().hex, 0)  # another session the dead worker held: not touched here
    await redis.lpush(keys.processing(dead), held.to_json(), other.to_json(), "{garbage")
    await r.claim(sid, "10.0.0.9:8000", dead)
    try:
        job = held.at_segment(7, "720p")
        results = await asyncio.gather(
            *(Routing(c, keys).requeue(job, route="10.0.0.9:8000", held_by=dead) for c in clients)
        )
        assert sum(results) == 1
        queued = await _queued(redis, keys, sid)
        assert [(j.start_segment, j.variant) for j in queued] == [(7, "720p")]
        assert await r.route(sid) is None
        assert await redis.lrange(keys.processing(dead), 0, -1) == ["{garbage", other.to_json()]
        # Until a worker takes the job, a later requeue (another request) queues nothing more.
        assert not await r.requeue(job.at_segment(8), route=None, held_by=dead)
        assert len(await _queued(redis, keys, sid)) == 1
        # Once taken, the next failover may queue again.
        await r.taken(sid)
        assert await r.requeue(job.at_segment(9))
        assert [j.start_segment for j in await _queued(redis, keys, sid)] == [7, 9]
    finally:
        await redis.lrem(keys.processing(dead), 0, other.to_json())
        await _forget(redis, keys, sid, dead)


async def test_requeue_leaves_a_new_route_alone(redis, keys, sid):
    """A requeuer that saw an old route must not clear the route another worker set meanwhile."""
    r = Routing(redis, keys)
    try:
        await r.claim(sid, "10.0.0.2:8000", "new")
        assert await r.requeue(_job(sid, 3), route="10.0.0.1:8000")
        assert await r.route(sid) == Route("10.0.0.2:8000", "")
    finally:
        await _forget(redis, keys, sid, "new")


async def test_ensure_job_once_and_not_while_served(redis, keys, clients, sid):
    r = Routing(redis, keys)
    try:
        results = await asyncio.gather(*(Routing(c, keys).ensure_job(_job(sid, 2)) for c in clients))
        assert sum(results) == 1
        await r.taken(sid)
        await r.claim(sid, "10.0.0.1:8000", "w")
        assert not await r.ensure_job(_job(sid, 2))  # a worker serves it
        assert len(await _queued(redis, keys, sid)) == 1
    finally:
        await _forget(redis, keys, sid, "w")


async def test_take_ack_and_forget_worker(redis, keys, sid):
    r = Routing(redis, keys)
    w = f"w-{sid[:6]}"
    try:
        await r.heartbeat(w, "10.0.0.1:8000")
        await r.enqueue(_job(sid, 1))
        raw = None
        while raw is None or sid not in raw:  # other tests' jobs are not in this run's prefix
            raw = await r.take(w, timeout=1)
            assert raw is not None
        assert [j.sid for _, j in await r.held(w)] == [sid]
        assert not await r.forget_worker(w)  # still holds a job
        await r.ack(w, raw)
        assert await r.held(w) == []
        assert await r.forget_worker(w)
        assert w not in await r.registered_workers()
    finally:
        await _forget(redis, keys, sid, w)


async def test_ready_and_failed_reach_a_waiting_request(redis, keys, sid):
    """A request subscribed before the requeue hears the worker's ``ready``, or ``failed`` as 503
    ``transcode_failed``; with neither it times out; a route set before it listened counts as ready."""
    r = Routing(redis, keys)
    try:
        listener = await r.listen(sid)
        try:

            async def later(message: SessionMessage) -> None:
                await asyncio.sleep(0.3)
                await Routing(redis, keys).publish(message)

            ready = SessionMessage("ready", sid, "w", "10.0.0.1:8000", segment=4, variant="720p")
            task = asyncio.create_task(later(ready))
            started = time.monotonic()
            assert await listener.wait(time.monotonic() + 5)
            assert time.monotonic() - started < 2
            await task

            task = asyncio.create_task(later(SessionMessage("failed", sid, "w", error="moov atom not found")))
            with pytest.raises(Unavailable) as failed:
                await listener.wait(time.monotonic() + 5)
            assert failed.value.code == routing.TRANSCODE_FAILED and "moov atom" in failed.value.message
            await task

            # Unrelated traffic on the channel is ignored; no message → False at the deadline.
            await redis.publish(keys.session_events(sid), "not json")
            started = time.monotonic()
            assert not await listener.wait(time.monotonic() + 0.8)
            assert 0.7 < time.monotonic() - started < 2
        finally:
            await listener.close()
        await r.claim(sid, "10.0.0.1:8000", "w")
        listener = await r.listen(sid)
        try:
            assert await listener.wait(time.monotonic() + 0.5)
        finally:
            await listener.close()
    finally:
        await _forget(redis, keys, sid, "w")


def test_session_message_wire_form():
    """The published JSON is what earlier releases sent (``type`` names the kind)."""
    ready = SessionMessage("ready", "s1", "w1", "10.0.0.1:8000", segment=3, variant="720p")
    assert json.loads(ready.to_json()) == {"type": "ready", "sid": "s1", "worker": "w1", "address": "10.0.0.1:8000",
                                           "segment": 3, "variant": "720p"}  # fmt: skip
    assert SessionMessage.from_json(ready.to_json()) == ready
    old = json.dumps({"type": "failed", "sid": "s1", "worker": "w1", "address": "a:1", "error": "boom"})
    assert SessionMessage.from_json(old) == SessionMessage("failed", "s1", "w1", "a:1", error="boom")
    for junk in ("", "[]", "{}", '{"type": "other"}', b"\xff"):
        assert SessionMessage.from_json(junk) is None


async def test_leases_check_and_close(redis, keys, sid):
    """A worker's check: lease lapsed, taken over by another address, fine; close clears it all."""
    r = Routing(redis, keys)
    gone, moved = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        await r.renew(sid, 30)
        await r.renew(moved, 30)
        assert await r.lease_alive(sid) and not await r.lease_alive(gone)
        await r.claim(sid, "10.0.0.1:8000", "w")
        await r.claim(moved, "10.0.0.2:8000", "other")
        checks = await r.check([sid, gone, moved], "10.0.0.1:8000")
        assert checks == {sid: SessionCheck.OK, gone: SessionCheck.LEASE_LAPSED, moved: SessionCheck.TAKEN_OVER}
        await r.ensure_job(_job(sid))  # served: nothing queued, no pending marker
        await redis.set(keys.session_pending(sid), "0")
        await r.close(sid)
        assert not await r.lease_alive(sid)
        assert await r.route(sid) is None
        assert not await redis.exists(keys.session_pending(sid))
        assert (await r.check([sid], "10.0.0.1:8000"))[sid] is SessionCheck.LEASE_LAPSED
        # A worker that lost the session releases without touching the new owner's route.
        await r.release(moved, "w", "10.0.0.1:8000")
        assert await r.route(moved) == Route("10.0.0.2:8000", "")
        assert [x.sid for x in await r.running() if x.sid == moved] == [moved]
        await r.release(moved, "other", "10.0.0.2:8000")
        assert await r.route(moved) is None
        assert [x for x in await r.running() if x.sid == moved] == []
    finally:
        await _forget(redis, keys, sid, "w")
        await _forget(redis, keys, moved, "other")


async def test_routes_scan(redis, keys, sid):
    r = Routing(redis, keys)
    try:
        await redis.hset(keys.session(sid), mapping={"sid": sid})
        await r.claim(sid, "10.0.0.5:8000", "w5")
        found = {s: route async for s, route in r.routes()}
        assert found[sid] == Route("10.0.0.5:8000", "w5")
    finally:
        await _forget(redis, keys, sid, "w5")


@pytest.mark.parametrize(
    ("status", "code", "answer"),
    [
        (200, "", Answer.SEGMENT),
        (404, routing.UNKNOWN_SESSION, Answer.GONE),
        (404, routing.NO_SEGMENT, Answer.GONE),
        (404, routing.BEYOND_END, Answer.BEYOND_END),
        (503, routing.NOT_READY, Answer.NOT_READY),
        (502, routing.TRANSCODE_FAILED, Answer.FAILED),
        (500, "status 500", Answer.FAILED),
    ],
)
def test_segment_answers(status, code, answer):
    assert routing.classify(status, code) is answer


def test_segment_url():
    assert routing.segment_url("10.0.0.1:8000", "abc", "720p", 5) == "http://10.0.0.1:8000/sessions/abc/720p/5.ts"
