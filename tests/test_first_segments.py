"""The first-segment cache (issue 13): a film started before on this machine begins without waiting
for FFmpeg — its first seconds of segments come from the cache, and the encoder starts only when the
player asks for the segment after them. A real worker process and real FFmpeg (no api in between)."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from yaffw import queue
from yaffw.media import hls
from yaffw_transcode.first_segments import FirstSegments

from tests.transcode_support import (
    WorkerProcess,
    ffmpeg_pids_with,
    make_long_hevc,
    make_user,
    open_session,
    probe_segment,
    register_file,
    transcode_job,
)

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="session")
def long_hevc(sample_media) -> Path:
    """40 s of HEVC (shared with tests/test_transcode_worker.py)."""
    return make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-long-hevc.mkv")


async def _start(redis, keys, job: queue.JobPayload, timeout: float = 90) -> tuple[dict, float]:
    """Queue ``job`` (subscribed first: a cached start answers at once); its ``ready`` message and
    the seconds it took."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.session_events(job.sid))
    try:
        started = time.monotonic()
        await queue.enqueue(redis, keys, job)
        while time.monotonic() - started < timeout:
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if msg:
                return json.loads(msg["data"]), time.monotonic() - started
        raise AssertionError("no ready event")
    finally:
        await pubsub.aclose()


async def _fetch(client: httpx.AsyncClient, worker: WorkerProcess, sid: str, n: int) -> bytes:
    r = await client.get(f"{worker.url}/sessions/{sid}/180p/{n}.ts", params={"wait": 30})
    assert r.status_code == 200, r.text
    return r.content


async def _cached_total(client: httpx.AsyncClient, worker: WorkerProcess) -> float:
    text = (await client.get(worker.url + "/metrics")).text
    return float(re.search(r"^yaffw_transcode_first_segments_cached_total (\S+)$", text, re.M).group(1))


async def test_a_film_started_again_begins_from_the_cache(clean_db, redis, keys, settings, long_hevc, tmp_path):
    item_id = await register_file(clean_db, long_hevc)
    user = await make_user(clean_db)
    worker = WorkerProcess(settings, tmp_path / "worker.log", first_segment_cache=5).wait_ready()
    starts = hls.fixed_boundaries(40.0, 2, ramp=True)
    ramp = sum(1 for t in starts if t < 2)  # 0, 0.5, 1: the first 2 s
    assert ramp == 3
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            # The first session of the film: an encoder from segment 0, whose first segments are kept.
            first = replace(
                transcode_job(uuid.uuid4().hex, item_id, long_hevc, height=180, segment_seconds=2), short_start=True
            )  # a playback from the start: the ramp of short segments
            await open_session(redis, keys, settings, first, user_id=user, item_id=item_id)
            event, _ = await _start(redis, keys, first)
            assert event["type"] == "ready", event
            made = [await _fetch(client, worker, first.sid, n) for n in range(ramp)]
            assert await _cached_total(client, worker) == 0

            # A new session of the same film: ready at once, the same segments, and no FFmpeg until the
            # player asks for the segment after the cached ones.
            second = replace(
                transcode_job(uuid.uuid4().hex, item_id, long_hevc, height=180, segment_seconds=2), short_start=True
            )
            await open_session(redis, keys, settings, second, user_id=user, item_id=item_id)
            event, took = await _start(redis, keys, second)
            assert event["type"] == "ready" and event["segment"] == 0, event
            assert ffmpeg_pids_with(second.sid) == [], worker.log()
            for n in range(ramp):
                assert await _fetch(client, worker, second.sid, n) == made[n]
            assert ffmpeg_pids_with(second.sid) == []
            assert await _cached_total(client, worker) == 1
            # The next segment starts an encoder there, on the playlist's timeline.
            after = tmp_path / "after.ts"
            after.write_bytes(await _fetch(client, worker, second.sid, ramp))
            assert abs(probe_segment(after)["video"][0] - starts[ramp]) < 0.1
            print(f"\ncached start: ready {took * 1000:.0f} ms after the job was queued")
    finally:
        worker.stop()


def test_cache_keys_entries_and_limit(tmp_path) -> None:
    """The key follows the command line and the file; an entry counts only when whole; the least
    recently used entries go beyond the limit; 0 turns it off."""
    src = tmp_path / "film.mkv"
    src.write_bytes(b"x" * 100)
    cache = FirstSegments(tmp_path / "cache", limit=2)
    argv = ["ffmpeg", "-i", str(src), "-b:v", "400000", "/scratch/a/.run1/%d.ts"]
    key = cache.key(argv, str(src))
    assert key and key == cache.key([*argv[:-1], "/scratch/b/.run7/%d.ts"], str(src))  # output folder left out
    assert cache.key([*argv[:3], "-b:v", "800000", argv[-1]], str(src)) != key
    os.utime(src, ns=(1, 1))
    assert cache.key(argv, str(src)) != key  # the file changed
    assert FirstSegments(tmp_path / "off", limit=0).key(argv, str(src)) is None

    made = tmp_path / "seg.ts"
    made.write_bytes(b"ts")
    cache.store("a", 0, made)
    assert cache.lookup("a", 2) is None  # half an entry is no entry
    cache.store("a", 1, made)
    assert [p.name for p in cache.lookup("a", 2) or []] == ["0.ts", "1.ts"]
    for k in ("b", "c"):
        time.sleep(0.02)
        cache.store(k, 0, made)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["b", "c"]  # "a" was the oldest
