"""The lease reaper against real Redis and PostgreSQL, in-process and as the real function."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from yaffw import leases, queue, sessions
from yaffw.local_services import free_port

from tests._media_rows import insert_item, make_library, make_user
from tests.conftest import ROOT, wait_ready
from tests.transcode_support import transcode_job

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def reaper_cls():
    sys.path.insert(0, str(ROOT / "functions" / "lease-reaper"))
    from yaffw_reaper.reaper import Reaper

    return Reaper


async def _mess(clean_db, redis, keys, settings, sample_media) -> dict:
    """What a SIGKILLed worker and a vanished player leave behind (after removing what earlier tests
    of this run left, so the counts are this test's)."""
    for worker_id in await redis.smembers(keys.workers):
        await redis.delete(keys.processing(worker_id), keys.worker(worker_id))
    for sid in await redis.smembers(keys.sessions):
        await sessions.delete(redis, keys, sid)
    await redis.delete(keys.workers, keys.transcode_queue, keys.active_transcode)
    lib = await make_library(clean_db, sample_media.movies)
    item = await insert_item(clean_db, lib, sample_media.mp4, name="Big Buck Test")
    user = await make_user(clean_db, settings, libraries=(lib,))
    dead, live = f"dead-{uuid.uuid4().hex[:6]}", f"live-{uuid.uuid4().hex[:6]}"
    playing, gone = uuid.uuid4().hex, uuid.uuid4().hex
    await leases.heartbeat(redis, keys, live, "127.0.0.1:1")
    await redis.sadd(keys.workers, dead)
    for sid in (playing, gone):
        job = transcode_job(sid, item, sample_media.mp4, segment_seconds=6)
        old = time.time() - 3600
        await sessions.create(redis, keys, sessions.PlaybackSession(
            sid=sid, user_id=user["id"], user_name=user["name"], item_id=item, item_name="Big Buck Test",
            method="transcode", job=json.loads(job.to_json()), position_seconds=12.5, created_at=old,
            updated_at=old, worker=dead,
        ))  # fmt: skip
        await redis.lpush(keys.processing(dead), job.to_json())
        await redis.set(keys.session_map(sid), "127.0.0.1:9")
        await redis.lpush(keys.active_transcode, leases.active_entry(sid, dead))
    await redis.lpush(keys.processing(dead), "{garbage")
    await leases.renew(redis, keys, playing, 60)
    # A route of a live worker with a live lease must survive.
    await redis.set(keys.session_map("other"), "127.0.0.1:1")
    await redis.hset(keys.session("other"), mapping={"sid": "other", "worker": live})
    await leases.renew(redis, keys, "other", 60)
    await redis.lpush(keys.active_transcode, leases.active_entry("other", live))
    return {"item": item, "user": user, "dead": dead, "live": live, "playing": playing, "gone": gone}


async def _check(redis, keys, clean_db, m: dict) -> None:
    queued = [queue.JobPayload.from_json(r) for r in await redis.lrange(keys.transcode_queue, 0, -1)]
    assert [(j.sid, j.start_segment) for j in queued] == [(m["playing"], 2)]  # 12.5 s / 6 s
    assert await redis.llen(keys.processing(m["dead"])) == 0
    assert m["dead"] not in await redis.smembers(keys.workers)
    assert m["live"] in await redis.smembers(keys.workers)
    assert await redis.get(keys.session_map(m["playing"])) is None
    assert await redis.get(keys.session_map(m["gone"])) is None
    assert await redis.get(keys.session_map("other")) == "127.0.0.1:1"
    assert await redis.lrange(keys.active_transcode, 0, -1) == [leases.active_entry("other", m["live"])]
    # The lapsed session is closed once: position saved, one stop entry; the playing one stays.
    assert await sessions.get(redis, keys, m["gone"]) is None
    assert await sessions.get(redis, keys, m["playing"]) is not None
    row = await clean_db.fetchrow("SELECT position_seconds FROM user_item_data WHERE user_id = $1 AND item_id = $2",
                                  m["user"]["id"], m["item"])  # fmt: skip
    assert row["position_seconds"] == pytest.approx(12.5)
    stops = await clean_db.fetch("SELECT data FROM activity_log WHERE type = 'playback.stopped'")
    assert [s["data"]["sid"] for s in stops] == [m["gone"]]


async def test_reaper_cleans_after_dead_worker_and_lapsed_session(clean_db, redis, keys, settings, sample_media,
                                                                   reaper_cls):  # fmt: skip
    await redis.delete(keys.transcode_queue, keys.active_transcode)
    m = await _mess(clean_db, redis, keys, settings, sample_media)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.notify)
    async with clean_db.acquire() as conn:
        result = await reaper_cls(settings, redis, conn).tick()
        assert result["jobs_requeued"] == 1 and result["jobs_dropped"] == 2 and result["sessions_closed"] == 1
        assert len(result["partitions"]["created"]) == 2
        await _check(redis, keys, clean_db, m)
        # At-least-once delivery: a second tick changes nothing.
        again = await reaper_cls(settings, redis, conn).tick()
        assert not again.get("jobs_requeued") and not again.get("sessions_closed")
        await _check(redis, keys, clean_db, m)
    msg = None
    for _ in range(20):
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if msg:
            break
    await pubsub.aclose()
    assert msg and json.loads(msg["data"])["type"] == "io.yaffw.playback.stopped"
    await redis.delete(keys.transcode_queue)


async def test_reaper_drops_old_partitions(clean_db, settings, redis, reaper_cls):
    await clean_db.execute("SELECT ensure_activity_partition(now() - interval '30 months')")
    async with clean_db.acquire() as conn:
        result = await reaper_cls(settings, redis, conn).tick()
    assert any(name.startswith("activity_log_") for name in result["partitions"]["dropped"])
    left = await clean_db.fetchval(
        "SELECT count(*) FROM pg_class WHERE relname = to_char(now() - interval '30 months', "
        "'\"activity_log_\"YYYY_MM')"
    )
    assert left == 0


async def test_reaper_function_handles_tick_event(clean_db, redis, keys, settings, sample_media, tmp_path):
    """The real ``yaffw function lease-reaper`` process, sent a tick in binary mode."""
    await redis.delete(keys.transcode_queue, keys.active_transcode)
    m = await _mess(clean_db, redis, keys, settings, sample_media)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.update(settings.replace(port=port, host="127.0.0.1").to_env())
    log = (tmp_path / "reaper.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "yaffw.cli", "function", "lease-reaper"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_ready(f"http://127.0.0.1:{port}", proc)
        headers = {"ce-specversion": "1.0", "ce-type": "io.yaffw.lease.tick", "ce-source": "/test",
                   "ce-id": uuid.uuid4().hex, "content-type": "application/json"}  # fmt: skip
        for _ in range(2):  # delivered twice
            r = httpx.post(f"http://127.0.0.1:{port}/", headers=headers, content=b"{}", timeout=60)
            assert r.status_code == 200, (r.text, (tmp_path / "reaper.log").read_text()[-3000:])
        await _check(redis, keys, clean_db, m)
    finally:
        proc.terminate()
        proc.wait(20)
        await redis.delete(keys.transcode_queue)
