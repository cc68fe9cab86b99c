"""HLS through the real api: playlists, the segment proxy, access, and failover between workers."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from urllib.parse import urljoin

import httpx
import pytest
from yaffw import queue, sessions
from yaffw.routing import Routing

from tests._media_rows import insert_item, make_library, make_user
from tests.api_procs import api_process
from tests.transcode_support import (
    WorkerProcess,
    ffmpeg_pids_with,
    get_segment,
    make_long_hevc,
    playlist_segments,
    probe_segment,
)

pytestmark = pytest.mark.timeout(300)

# A client that cannot play HEVC, limited to a small height (fast on a small CPU).
CAPS = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 180, "hls": True}


@pytest.fixture(scope="module")
async def media(pool, settings, sample_media):
    long_hevc = make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-long-hevc.mkv")
    lib = await make_library(pool, long_hevc.parent, name=f"hls-{time.time_ns()}")
    return {
        "hevc": await insert_item(pool, lib, long_hevc, name="Long Hevc"),
        "owner": await make_user(pool, settings, libraries=(lib,)),
        "stranger": await make_user(pool, settings),
        "path": long_hevc,
    }


@pytest.fixture
def workers(settings, tmp_path):
    made: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        w = WorkerProcess(settings, tmp_path / f"worker{len(made)}.log")
        made.append(w)
        return w.wait_ready()

    yield start
    for w in made:
        w.stop()


def _play(api_url: str, user: dict, item_id: str) -> dict:
    r = httpx.post(f"{api_url}/api/items/{item_id}/playback", json={"capabilities": CAPS}, headers=user["headers"],
                   timeout=30)  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["method"] == "transcode"
    return body


async def test_playlists_and_segments_through_api(api_url, media, workers, settings, tmp_path, redis, keys):
    workers()
    body = _play(api_url, media["owner"], media["hevc"])
    master_url = urljoin(api_url, body["url"])
    assert "token=" in master_url
    async with httpx.AsyncClient(timeout=60) as client:
        master = await client.get(master_url)  # no header: the scoped token in the URL is enough
        assert master.status_code == 200, master.text
        assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
        text = master.text
        # The playback answer carries the same master playlist (the web player takes it from there).
        assert body["master_playlist"] == text
        assert "#EXT-X-STREAM-INF:BANDWIDTH=" in text and "RESOLUTION=320x180" in text
        assert 'CODECS="avc1.64001e,mp4a.40.2"' in text
        variant_uri = next(line for line in text.splitlines() if line.endswith(".m3u8") or "index.m3u8?" in line)
        assert variant_uri.startswith("180p/index.m3u8?token=")
        index_url = urljoin(master_url, variant_uri)
        started = time.monotonic()
        index = await client.get(index_url)
        assert time.monotonic() - started < 5  # answered by the api, without a worker
        segs = playlist_segments(index.text)
        assert index.text.rstrip().endswith("#EXT-X-ENDLIST") and "#EXT-X-PLAYLIST-TYPE:VOD" in index.text
        # 40.02 s: the short first segments (0.5, 0.5, 1, 2, 2 s), then 6 s ones
        assert len(segs) == 11 and abs(sum(d for d, _ in segs) - 40.02) < 0.1
        expected = 0.0
        for n, (length, uri) in enumerate(segs[:3]):
            path, _ = await get_segment(client, urljoin(index_url, uri), tmp_path / f"{n}.ts")
            v_start, _v_len = probe_segment(path)["video"]
            assert abs(v_start - expected) < 0.1
            expected += length
        # Leases are renewed by segment requests.
        assert await redis.ttl(keys.lease(body["session_id"])) > settings.lease_seconds - 10
        # Another user's token or none at all: 401/404, never the segment.
        bare = index_url.split("?")[0]
        assert (await client.get(bare)).status_code == 401
        r = await client.get(bare, headers=media["stranger"]["headers"])
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        r = await client.get(urljoin(index_url, "999.ts" + index_url[index_url.index("?") :]))
        assert r.status_code == 404
        r = await client.get(urljoin(index_url, "../720p/index.m3u8" + index_url[index_url.index("?") :]))
        assert r.status_code == 404
    httpx.delete(f"{api_url}/api/sessions/{body['session_id']}", headers=media["owner"]["headers"])


async def test_sigkilled_worker_fails_over_to_second_worker(api_url, media, workers, settings, tmp_path, redis, keys,
                                                            _scratch):  # fmt: skip
    """Two api replicas, two workers; the serving worker is SIGKILLed mid-playback."""
    first, second = workers(), workers()
    body = _play(api_url, media["owner"], media["hevc"])
    sid = body["session_id"]
    with api_process(settings, _scratch / f"api2-{sid}.log") as api2:
        replicas = [api_url, api2]
        master_path = body["url"]
        async with httpx.AsyncClient(timeout=60) as client:
            master = await client.get(urljoin(api_url, master_path))
            variant_uri = next(line for line in master.text.splitlines() if "index.m3u8" in line)
            index_path = urljoin(master_path, variant_uri)
            index = await client.get(urljoin(api2, index_path))
            segs = playlist_segments(index.text)
            expected, delays = 0.0, 0
            for n, (length, uri) in enumerate(segs):
                replica = replicas[n % 2]  # any replica serves any session
                if n == 3:
                    route = await redis.get(keys.session_map(sid))
                    victim = first if route == first.address else second
                    survivor = second if victim is first else first
                    assert route == victim.address
                    victim_id = (await sessions.get(redis, keys, sid)).worker
                    # On an idle machine the encoder may already have finished the short file.
                    encoding = bool(ffmpeg_pids_with(victim_id))
                    victim.proc.send_signal(signal.SIGKILL)
                    victim.proc.wait(10)
                    killed_at = time.monotonic()
                path, retries = await get_segment(client, urljoin(replica, urljoin(index_path, uri)),
                                                   tmp_path / f"{n}.ts")  # fmt: skip
                delays += retries
                if n == 3:
                    failover_seconds = time.monotonic() - killed_at
                    # The dead worker's FFmpeg died with it.
                    assert not (encoding and ffmpeg_pids_with(victim_id))
                v_start, _ = probe_segment(path)["video"]
                assert abs(v_start - expected) < 0.1, (n, v_start, expected)
                expected += length
    assert await redis.get(keys.session_map(sid)) == survivor.address
    session = await sessions.get(redis, keys, sid)
    assert session is not None and session.worker != ""
    print(f"failover: segment 3 after {failover_seconds:.2f}s, {delays} 503 retries")
    httpx.delete(f"{api_url}/api/sessions/{sid}", headers=media["owner"]["headers"])
    # Stopping the session ends its encoder on the survivor within a couple of lease checks.
    deadline = time.monotonic() + 15
    while ffmpeg_pids_with(sid) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not ffmpeg_pids_with(sid)


async def test_playback_request_queues_the_job(api_url, media, redis, keys):
    """Pre-warm (issue 13): the playback answer alone queues the session's job — on the variant the
    master playlist lists first, at segment 0 — before the player has asked for any playlist, when a
    worker is alive (a heartbeat stands for one here: nothing takes the job)."""
    routing = Routing(redis, keys)
    worker_id = f"prewarm-{uuid.uuid4().hex[:6]}"
    await routing.heartbeat(worker_id, "127.0.0.1:9")
    body = _play(api_url, media["owner"], media["hevc"])
    sid = body["session_id"]
    try:
        deadline = time.monotonic() + 10
        mine: list[str] = []
        while not mine and time.monotonic() < deadline:
            mine = [r for r in await redis.lrange(keys.transcode_queue, 0, -1) if sid in r]
            await asyncio.sleep(0.05)
        assert len(mine) == 1, "no job queued by the playback request"
        job = queue.JobPayload.from_json(mine[0])
        async with httpx.AsyncClient(timeout=30) as client:
            master = (await client.get(urljoin(api_url, body["url"]))).text
        first = next(line for line in master.splitlines() if "index.m3u8" in line).split("/", 1)[0]
        assert (job.sid, job.start_segment, job.variant) == (sid, 0, first)
        assert job.short_start  # from the start: the ramp of short first segments
        # The master playlist does not queue a second one.
        assert [r for r in await redis.lrange(keys.transcode_queue, 0, -1) if sid in r] == mine
    finally:
        for raw in [r for r in await redis.lrange(keys.transcode_queue, 0, -1) if sid in r]:
            await redis.lrem(keys.transcode_queue, 0, raw)  # no worker here; none of a later test takes it
        await routing.unregister(worker_id)
        httpx.delete(f"{api_url}/api/sessions/{sid}", headers=media["owner"]["headers"], timeout=30)


async def test_a_session_opened_at_a_position_keeps_full_segments(api_url, media, redis, keys):
    """The ramp of short first segments is for a playback from the start: a resume (or a track
    change, which reopens at the position) lists full-length segments, as before issue 13."""
    r = httpx.post(f"{api_url}/api/items/{media['hevc']}/playback", json={"capabilities": CAPS, "start_seconds": 2.0},
                   headers=media["owner"]["headers"], timeout=30)  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            master_url = urljoin(api_url, body["url"])
            master = (await client.get(master_url)).text
            variant = next(line for line in master.splitlines() if "index.m3u8" in line)
            segs = playlist_segments((await client.get(urljoin(master_url, variant))).text)
        assert [round(d, 2) for d, _ in segs[:2]] == [6.0, 6.0] and len(segs) == 7
    finally:
        await asyncio.sleep(0.5)  # the pre-warm's job, queued in the background
        for raw in [r for r in await redis.lrange(keys.transcode_queue, 0, -1) if body["session_id"] in r]:
            await redis.lrem(keys.transcode_queue, 0, raw)
        httpx.delete(f"{api_url}/api/sessions/{body['session_id']}", headers=media["owner"]["headers"], timeout=30)
