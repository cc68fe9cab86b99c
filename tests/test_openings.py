"""Openings (issue 13): a film's first segments made by an idle worker after the scan and kept in
object storage, so the film's first playback on any worker starts without waiting for FFmpeg.

Real worker processes, the real api, real FFmpeg, PostgreSQL, Redis and moto's S3 server over HTTP.
"""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import time
import uuid
from urllib.parse import urljoin

import httpx
import pytest
from yaffw import queue

from tests._media_rows import insert_item, make_library, make_user
from tests._scan_helpers import make_store
from tests.api_procs import api_process
from tests.transcode_support import (
    WorkerProcess,
    ffmpeg_pids_with,
    make_long_hevc,
    open_session,
    playlist_segments,
    probe_segment,
    transcode_job,
    wait_for,
)

pytestmark = pytest.mark.timeout(300)

# What the web player in headless Chromium says it plays (no HEVC): the film is transcoded to H.264,
# its AAC audio copied — the reference client's job.
WEB_CAPS = {
    "containers": ["mp4", "webm"], "video_codecs": ["h264", "vp8", "vp9", "av1"],
    "audio_codecs": ["aac", "mp3", "opus", "flac", "vorbis"],
    "video_profiles": {"h264": ["constrained baseline", "baseline", "main", "high"]},
    "max_video_level": {"h264": 52}, "hls": True,
}  # fmt: skip
RAMP = [0.0, 0.5, 1.0, 2.0, 4.0]  # segment starts in the first S = 6 s of a playback from the start


@pytest.fixture(scope="module")
async def media(pool, settings, sample_media):
    long_hevc = make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-long-hevc.mkv")
    lib = await make_library(pool, long_hevc.parent, name=f"openings-{time.time_ns()}")
    return {
        "lib": lib,
        "hevc": await insert_item(pool, lib, long_hevc, name="Long Hevc"),
        "owner": await make_user(pool, settings, libraries=(lib,)),
        "path": long_hevc,
    }


@pytest.fixture
async def on(settings, redis, keys):
    """Settings with openings on (the run's default is off), the store's bucket made, and both queues
    empty before and after (a stopped worker gives its sessions back to the transcode queue)."""
    make_store(settings)
    await redis.delete(keys.openings_queue, keys.transcode_queue)
    yield settings.replace(openings=True)
    await redis.delete(keys.openings_queue, keys.transcode_queue)


def _entry(store, item_id: str) -> str | None:
    """The prefix of the item's complete opening entry in the store, if there is one."""
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=f"openings/{item_id}/")
    counts = [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith("/count")]
    return counts[0].removesuffix("count") if counts else None


async def _metric(worker: WorkerProcess, outcome: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(worker.url + "/metrics")).text
    found = re.search(rf'^yaffw_transcode_openings_total\{{outcome="{outcome}"\}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_an_idle_worker_makes_the_opening_and_the_first_playback_starts_from_it(redis, keys, on, media,
                                                                                        tmp_path):  # fmt: skip
    store = make_store(on)
    item = media["hevc"]
    maker = WorkerProcess(on, tmp_path / "maker.log").wait_ready()
    try:
        await redis.rpush(keys.openings_queue, item)
        prefix = await wait_for(lambda: _entry(store, item), 90)
        assert prefix, maker.log()
        # Counted once stored and indexed (the count object is stored just before the index).
        assert await wait_for(lambda: _metric(maker, "made"), 30) == 1
        # The opening is the ramp of short segments, each a whole MPEG-TS on the film's timeline.
        opening = [store.get(f"{prefix}{n}.ts") for n in range(len(RAMP))]
        assert store.get(f"{prefix}count") == str(len(RAMP)).encode()
        # Indexed in Redis once whole: sessions ask Redis, not the store.
        index, key = keys.opening(item), prefix.rstrip("/").rsplit("/", 1)[1]
        assert await redis.hget(index, key) in (b"5", "5")
        assert 0 < await redis.ttl(index) <= 90 * 86400
        for n, blob in enumerate(opening):
            seg = tmp_path / f"opening{n}.ts"
            seg.write_bytes(blob)
            assert abs(probe_segment(seg)["video"][0] - RAMP[n]) < 0.1, n
        # Asked again (the file unchanged): nothing is encoded twice, and an index Redis lost (a
        # flush, an expiry) is found again in the store.
        await redis.delete(index)
        await redis.rpush(keys.openings_queue, item)
        assert await wait_for(lambda: _metric(maker, "exists"), 30) == 1
        assert await redis.hget(index, key) in (b"5", "5")
        assert ffmpeg_pids_with(f"opening-{item}") == []
    finally:
        maker.stop()

    # The film's first playback, through the real api, on a worker just started (scaled from zero:
    # nothing in its scratch): segment 0 is the stored one and no FFmpeg runs until segment 5.
    player = WorkerProcess(on, tmp_path / "player.log").wait_ready()
    try:
        with api_process(on, tmp_path / "api.log") as api_url:
            async with httpx.AsyncClient(timeout=60, headers=media["owner"]["headers"]) as client:
                r = await client.post(f"{api_url}/api/items/{item}/playback", json={"capabilities": WEB_CAPS})
                assert r.status_code == 201, r.text
                play = r.json()
                assert play["method"] == "transcode", play
                master_url = urljoin(api_url, play["url"])
                master = (await client.get(master_url)).text
                # The first variant listed: the one players start with, and the reference client's.
                first_variant = next(line for line in master.splitlines() if line and not line.startswith("#"))
                media_url = urljoin(master_url, first_variant)
                entries = playlist_segments((await client.get(media_url)).text)
                assert [round(d, 3) for d, _ in entries[:5]] == [0.5, 0.5, 1.0, 2.0, 2.0]
                first = await client.get(urljoin(media_url, entries[0][1]))
                assert first.status_code == 200, first.text
                assert first.content == opening[0]
                sid = play["session_id"]
                assert "from openings" in player.log(), player.log()
                assert ffmpeg_pids_with(sid) == []
                for n in range(1, len(RAMP)):
                    got = await client.get(urljoin(media_url, entries[n][1]))
                    assert got.content == opening[n], n
                assert ffmpeg_pids_with(sid) == []
                # The segment after the opening starts an encoder there, on the playlist's timeline.
                after = await client.get(urljoin(media_url, entries[len(RAMP)][1]))
                assert after.status_code == 200, after.text
                seg = tmp_path / "after.ts"
                seg.write_bytes(after.content)
                assert abs(probe_segment(seg)["video"][0] - 6.0) < 0.1
    finally:
        player.stop()


@pytest.fixture
async def fresh(pool, media):
    """Another file of the film (a hard link): its own item, with no opening yet."""
    path = media["path"].with_name(f"copy-{uuid.uuid4().hex[:6]}.mkv")
    os.link(media["path"], path)
    yield path, await insert_item(pool, media["lib"], path)
    path.unlink(missing_ok=True)


async def test_a_first_playback_keeps_its_opening_for_every_worker(redis, keys, on, media, fresh, tmp_path):
    """No scan asked: a worker that runs a film from segment 0 stores the opening itself."""
    store = make_store(on)
    path, item = fresh
    worker = WorkerProcess(on, tmp_path / "w.log").wait_ready()
    try:
        job = dataclasses.replace(transcode_job(uuid.uuid4().hex, item, path), short_start=True)
        await open_session(redis, keys, on, job, user_id=media["owner"]["id"], item_id=item)
        await queue.enqueue(redis, keys, job)
        prefix = await wait_for(lambda: _entry(store, item), 90)
        assert prefix, worker.log()
        assert store.get(f"{prefix}count") == str(len(RAMP)).encode()
    finally:
        worker.stop()


async def test_a_playback_interrupts_an_opening(redis, keys, on, media, fresh, tmp_path):
    _, item = fresh
    worker = WorkerProcess(on, tmp_path / "w.log").wait_ready()
    try:
        await redis.rpush(keys.openings_queue, item)
        pids = await wait_for(lambda: ffmpeg_pids_with(f"opening-{item}"), 60, interval=0.02)
        assert pids, worker.log()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)  # held mid-opening, so the playback surely finds it running
        job = transcode_job(uuid.uuid4().hex, item, media["path"])
        await open_session(redis, keys, on, job, user_id=media["owner"]["id"], item_id=item)
        pubsub = redis.pubsub()
        await pubsub.subscribe(keys.session_events(job.sid))
        try:
            await queue.enqueue(redis, keys, job)
            deadline = time.monotonic() + 90
            event = None
            while event is None and time.monotonic() < deadline:
                event = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            assert event is not None, worker.log()
        finally:
            await pubsub.aclose()
        assert '"ready"' in str(event["data"]), event
        assert ffmpeg_pids_with(f"opening-{item}") == [], "the opening's encoder stopped"
        assert await redis.lrange(keys.openings_queue, 0, -1) in ([item], [item.encode()])
        assert await _metric(worker, "interrupted") == 1
    finally:
        worker.stop()
