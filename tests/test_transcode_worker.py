"""A real worker process transcoding real HEVC files with FFmpeg (no api in between)."""

from __future__ import annotations

import json
import re
import signal
import uuid
from pathlib import Path

import httpx
import pytest
from yaffw import leases, queue
from yaffw.media import hls

from tests.transcode_support import (
    WorkerProcess,
    ffmpeg_pids_with,
    ffprobe_json,
    make_long_hevc,
    make_user,
    open_session,
    probe_segment,
    register_file,
    transcode_job,
    wait_for,
)

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="session")
def long_hevc(sample_media) -> Path:
    """40 s of HEVC (the sample library's HEVC file is shorter than a seek test needs)."""
    return make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-long-hevc.mkv")


@pytest.fixture(scope="session")
def film_hevc(sample_media) -> Path:
    """Five minutes of small HEVC: longer than the encoder runs ahead of a player before pausing, so a
    seek past that point needs a new encoder whatever the machine's speed."""
    return make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-film-hevc.mkv", 300, "320x180")


@pytest.fixture
def worker_factory(settings, tmp_path):
    made: list[WorkerProcess] = []

    def make(**overrides) -> WorkerProcess:
        w = WorkerProcess(settings, tmp_path / f"worker{len(made)}.log", **overrides)
        made.append(w)
        return w.wait_ready()

    yield make
    for w in made:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait()


async def _ready(redis, keys, sid: str, timeout: float = 90) -> dict:
    """Wait for the session's ``ready``/``failed`` message (subscribe first, then check the route)."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.session_events(sid))
    try:

        async def poll():
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            return json.loads(msg["data"]) if msg else None

        got = await wait_for(poll, timeout, interval=0)
        assert got is not None, "no ready event"
        return got
    finally:
        await pubsub.aclose()


async def _fetch(client: httpx.AsyncClient, worker: WorkerProcess, sid: str, variant: str, n: int, dest: Path) -> Path:
    for _ in range(30):
        r = await client.get(f"{worker.url}/sessions/{sid}/{variant}/{n}.ts", params={"wait": 20})
        if r.status_code == 503:
            continue
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "video/mp2t"
        dest.write_bytes(r.content)
        return dest
    raise AssertionError(f"segment {n} never became ready")


async def test_transcodes_hevc_sample_continuous_segments(clean_db, redis, keys, settings, sample_media,
                                                          worker_factory, tmp_path):  # fmt: skip
    """The sample HEVC mkv, whole: valid segments whose timestamps follow the playlist."""
    item_id = await register_file(clean_db, sample_media.mkv)
    user = await make_user(clean_db)
    sid = uuid.uuid4().hex
    job = transcode_job(sid, item_id, sample_media.mkv, height=180, segment_seconds=2)
    await open_session(redis, keys, settings, job, user_id=user, item_id=item_id)
    worker = worker_factory()
    await queue.enqueue(redis, keys, job)
    event = await _ready(redis, keys, sid)
    assert event["type"] == "ready" and event["address"] == worker.address, event
    assert await redis.get(keys.session_map(sid)) == worker.address
    # Only this session's entries: other tests of the run share the list.
    assert [e for e in await redis.lrange(keys.active_transcode, 0, -1) if e.startswith(sid)] == [
        leases.active_entry(sid, event["worker"])
    ]
    assert await redis.hget(keys.session(sid), "worker") == event["worker"]

    # Segments up to the video's end are made; any whose start lies past it (a container longer than
    # its video, say) is answered 404 beyond_end rather than left hanging.
    video_end = _stream_end(sample_media.mkv)
    starts = hls.fixed_boundaries(_format_duration(sample_media.mkv), 2)
    total, made = 0.0, 0
    async with httpx.AsyncClient(timeout=60) as client:
        for n, start in enumerate(starts):
            await leases.renew(redis, keys, sid, settings.lease_seconds)
            if start >= video_end:
                r = await client.get(f"{worker.url}/sessions/{sid}/180p/{n}.ts", params={"wait": 20})
                assert r.status_code == 404 and r.json()["error"]["code"] == "beyond_end", r.text
                continue
            seg = probe_segment(await _fetch(client, worker, sid, "180p", n, tmp_path / f"{n}.ts"))
            v_start, v_len = seg["video"]
            assert abs(v_start - start) < 0.1, (n, v_start, start)
            assert "audio" in seg
            total += v_len
            made += 1
        r = await client.get(f"{worker.url}/sessions/{sid}/180p/{len(starts)}.ts")
        assert r.status_code == 404
        r = await client.get(f"{worker.url}/sessions/nope/180p/0.ts")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_session"
    assert made == sum(1 for start in starts if start < video_end) >= 3
    assert abs(total - video_end) / video_end < 0.01, (total, video_end)
    worker.stop()
    assert worker.proc.returncode == 0, worker.log()


def _format_duration(path: Path) -> float:
    return float(ffprobe_json(path, "-show_format")["format"]["duration"])


def _stream_end(path: Path, stream: str = "v:0") -> float:
    packets = ffprobe_json(path, "-select_streams", stream, "-show_entries", "packet=pts_time,duration_time")
    return max(float(p["pts_time"]) + float(p.get("duration_time") or 0) for p in packets["packets"])


async def test_seek_far_ahead_restarts_encoder(clean_db, redis, keys, settings, film_hevc, worker_factory, tmp_path):
    item_id = await register_file(clean_db, film_hevc)
    user = await make_user(clean_db)
    sid = uuid.uuid4().hex
    job = transcode_job(sid, item_id, film_hevc, height=180, segment_seconds=2)
    await open_session(redis, keys, settings, job, user_id=user, item_id=item_id)
    worker = worker_factory()
    await queue.enqueue(redis, keys, job)
    assert (await _ready(redis, keys, sid))["type"] == "ready"
    first = ffmpeg_pids_with(sid)
    assert len(first) == 1
    async with httpx.AsyncClient(timeout=60) as client:
        # Far ahead (240 s; the first encoder pauses 120 s ahead of the player): it is stopped and one
        # starts at segment 120.
        seg = probe_segment(await _fetch(client, worker, sid, "180p", 120, tmp_path / "120.ts"))
        assert abs(seg["video"][0] - 240.0) < 0.1, seg
        assert first[0] not in ffmpeg_pids_with(sid)
        restarts = await _restarts(client, worker)
        assert restarts >= 1
        # Segment 0 is still served from scratch, without restarting anything.
        seg0 = probe_segment(await _fetch(client, worker, sid, "180p", 0, tmp_path / "0.ts"))
        assert seg0["video"][0] < 0.1
        assert await _restarts(client, worker) == restarts
        # Back to 5, not made: a restart there; its timestamps match the playlist too.
        seg5 = probe_segment(await _fetch(client, worker, sid, "180p", 5, tmp_path / "5.ts"))
        assert abs(seg5["video"][0] - 10.0) < 0.1, seg5
    worker.stop()


async def _restarts(client: httpx.AsyncClient, worker: WorkerProcess) -> float:
    text = (await client.get(worker.url + "/metrics")).text
    return float(re.search(r"^yaffw_transcode_encoder_restarts_total (\S+)$", text, re.M).group(1))


async def test_lease_lapse_ends_session(clean_db, redis, keys, settings, long_hevc, worker_factory):
    item_id = await register_file(clean_db, long_hevc)
    user = await make_user(clean_db)
    sid = uuid.uuid4().hex
    job = transcode_job(sid, item_id, long_hevc, height=180, segment_seconds=2)
    await open_session(redis, keys, settings, job, user_id=user, item_id=item_id, lease=False)
    worker = worker_factory()
    await redis.set(keys.lease(sid), "1", ex=6)  # a short lease that nobody renews
    await queue.enqueue(redis, keys, job)
    event = await _ready(redis, keys, sid)
    scratch = settings.scratch_dir / event["worker"] / sid
    assert scratch.exists() and ffmpeg_pids_with(sid)
    # Within lease + 10 s: FFmpeg gone, scratch freed, keys cleared, job acked.
    assert await wait_for(lambda: not ffmpeg_pids_with(sid) and not scratch.exists(), 20), worker.log()
    assert await redis.get(keys.session_map(sid)) is None
    assert leases.active_entry(sid, event["worker"]) not in await redis.lrange(keys.active_transcode, 0, -1)
    assert await redis.lrange(keys.processing(event["worker"]), 0, -1) == []
    worker.stop()


async def test_job_without_lease_is_dropped(clean_db, redis, keys, settings, long_hevc, worker_factory):
    item_id = await register_file(clean_db, long_hevc)
    sid = uuid.uuid4().hex
    worker = worker_factory()
    worker_id = httpx.get(worker.url + "/healthz").json()["worker"]
    job = transcode_job(sid, item_id, long_hevc).to_json()
    await redis.lpush(keys.transcode_queue, job, "{not json")

    async def dropped() -> bool:
        queued = await redis.lrange(keys.transcode_queue, 0, -1)
        held = await redis.lrange(keys.processing(worker_id), 0, -1)
        return job not in queued and "{not json" not in queued and not held

    assert await wait_for(dropped, 20), worker.log()
    assert await redis.get(keys.session_map(sid)) is None
    assert not ffmpeg_pids_with(sid)
    assert worker.proc.poll() is None


async def test_sigterm_drains_sessions_back_to_queue(clean_db, redis, keys, settings, long_hevc, worker_factory):
    item_id = await register_file(clean_db, long_hevc)
    user = await make_user(clean_db)
    sid = uuid.uuid4().hex
    job = transcode_job(sid, item_id, long_hevc, height=180, segment_seconds=2)
    await open_session(redis, keys, settings, job, user_id=user, item_id=item_id)
    worker = worker_factory()
    await queue.enqueue(redis, keys, job)
    event = await _ready(redis, keys, sid)
    async with httpx.AsyncClient(timeout=60) as client:
        for n in range(3):
            r = await client.get(f"{worker.url}/sessions/{sid}/180p/{n}.ts", params={"wait": 25})
            assert r.status_code == 200
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(30) == 0, worker.log()
    raw = [r for r in await redis.lrange(keys.transcode_queue, 0, -1) if sid in r]
    assert len(raw) == 1
    requeued = queue.JobPayload.from_json(raw[0])
    assert requeued.sid == sid and requeued.start_segment == 3 and requeued.variant == "180p"
    assert await redis.get(keys.session_map(sid)) is None
    assert await redis.lrange(keys.processing(event["worker"]), 0, -1) == []
    assert [e for e in await redis.lrange(keys.active_transcode, 0, -1) if e.startswith(sid)] == []
    assert await redis.get(keys.worker(event["worker"])) is None
    assert not ffmpeg_pids_with(sid)
    assert not (settings.scratch_dir / event["worker"]).exists()
    await redis.delete(keys.transcode_queue)
