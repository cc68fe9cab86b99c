"""Per-user limits (issue 14) against the running api, real Redis and PostgreSQL: playback sessions
per user (429 naming the limit, a lapsed lease frees its slot, an idle session is closed to make
room, an admin's per-user value wins) and ``POST /api/events`` (413, NaN, rate)."""

from __future__ import annotations

import time

import httpx
import pytest

from tests._media_rows import insert_item, make_library, make_user
from tests.test_playback_decision import CHROMIUM


@pytest.fixture(scope="module")
async def setup(pool, settings, sample_media):
    lib = await make_library(pool, sample_media.movies)
    return {
        "mp4": await insert_item(pool, lib, sample_media.mp4, name="Limit Test"),
        "mkv": await insert_item(pool, lib, sample_media.mkv, name="Limit Hevc"),
        "lib": lib,
    }


def _play(api_url: str, user: dict, item_id: str) -> httpx.Response:
    return httpx.post(f"{api_url}/api/items/{item_id}/playback", json={"capabilities": CHROMIUM},
                      headers=user["headers"], timeout=30)  # fmt: skip


async def test_sessions_per_user_limit(api_url, setup, pool, settings, redis, keys) -> None:
    user = await make_user(pool, settings, libraries=(setup["lib"],))
    sids = []
    for _ in range(settings.max_sessions_per_user):
        r = _play(api_url, user, setup["mp4"])
        assert r.status_code == 201, r.text
        sids.append(r.json()["session_id"])
    r = _play(api_url, user, setup["mp4"])
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert (
        error["code"] == "too_many_sessions" and f"max_sessions = {settings.max_sessions_per_user}" in error["message"]
    )
    # A crashed client: its lease lapses, its slot is free again without any reaper.
    await redis.delete(keys.lease(sids[0]))
    assert _play(api_url, user, setup["mp4"]).status_code == 201
    # A paused session is idle: it is closed to admit the next one.
    paused = sids[1]
    r = httpx.post(f"{api_url}/api/sessions/{paused}/progress", json={"position_seconds": 3, "paused": True},
                   headers=user["headers"])  # fmt: skip
    assert r.status_code in (200, 204), r.text
    assert _play(api_url, user, setup["mp4"]).status_code == 201
    assert not await redis.exists(keys.session(paused))
    # An admin raises this user's limit.
    await pool.execute("UPDATE users SET max_sessions = $2 WHERE id = $1::uuid", user["id"], 10)
    assert _play(api_url, user, setup["mp4"]).status_code == 201


async def test_events_size_nan_and_rate(api_url, settings) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        await _events(api_url, settings, http)


async def _events(api_url: str, settings, http: httpx.AsyncClient) -> None:
    service = {"Authorization": f"Bearer {settings.service_token}", "Content-Type": "application/cloudevents+json"}
    big = b'{"specversion": "1.0", "data": "' + b"x" * (300 * 1024) + b'"}'
    assert (await http.post(f"{api_url}/api/events", content=big, headers=service)).status_code == 413
    nan = b'{"specversion": "1.0", "type": "io.yaffw.lease.tick", "source": "/t", "id": "1", "data": {"x": NaN}}'
    r = await http.post(f"{api_url}/api/events", content=nan, headers=service)
    assert r.status_code == 400, r.text
    statuses = [(await http.post(f"{api_url}/api/events", content=nan, headers=service)).status_code
                for _ in range(settings.events_per_minute + 1)]  # fmt: skip
    assert 429 in statuses
    r = await http.post(f"{api_url}/api/events", content=nan, headers=service)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


async def test_transcodes_per_user_limit(api_url, setup, pool, settings) -> None:
    """Transcodes have their own, lower limit; direct play still fits under the session limit."""
    assert settings.max_transcodes_per_user < settings.max_sessions_per_user
    user = await make_user(pool, settings, libraries=(setup["lib"],))
    h264_only = {**CHROMIUM, "video_codecs": ["h264"], "max_height": 144}  # HEVC and too tall: transcode
    opened = []
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(settings.max_transcodes_per_user):
            r = await http.post(f"{api_url}/api/items/{setup['mkv']}/playback", json={"capabilities": h264_only},
                                headers=user["headers"])  # fmt: skip
            assert r.status_code == 201 and r.json()["method"] == "transcode", r.text
            opened.append(r.json()["session_id"])
        r = await http.post(f"{api_url}/api/items/{setup['mkv']}/playback", json={"capabilities": h264_only},
                            headers=user["headers"])  # fmt: skip
        assert r.status_code == 429, r.text
        error = r.json()["error"]
        assert error["code"] == "too_many_transcodes"
        assert f"max_transcodes = {settings.max_transcodes_per_user}" in error["message"]
        r = await http.post(f"{api_url}/api/items/{setup['mp4']}/playback", json={"capabilities": CHROMIUM},
                            headers=user["headers"])  # fmt: skip
        assert r.status_code == 201 and r.json()["method"] == "direct_play", r.text
        opened.append(r.json()["session_id"])
        # Stopping a transcode frees its slot at once.
        assert (await http.delete(f"{api_url}/api/sessions/{opened.pop(0)}", headers=user["headers"])).is_success
        r = await http.post(f"{api_url}/api/items/{setup['mkv']}/playback", json={"capabilities": h264_only},
                            headers=user["headers"])  # fmt: skip
        assert r.status_code == 201, r.text
        opened.append(r.json()["session_id"])
        for sid in opened:
            await http.delete(f"{api_url}/api/sessions/{sid}", headers=user["headers"])


async def test_event_stream_trimmed_by_age(api_url, pool, settings, redis, keys) -> None:
    """Entries older than YAFFW_EVENT_RETENTION_SECONDS go when the api appends (approximately: whole
    stream nodes of 100 entries, so a few old ones may stay)."""
    old_ms = int((time.time() - settings.event_retention_seconds - 86400) * 1000)
    stream = keys.events
    await redis.delete(stream)
    for seq in range(300):
        await redis.xadd(stream, {"old": "1"}, id=f"{old_ms}-{seq}")
    admin = await make_user(pool, settings, admin=True)  # its own rate budget (the service's may be spent)
    service = {**admin["headers"], "Content-Type": "application/cloudevents+json"}
    event = b'{"specversion": "1.0", "type": "io.yaffw.lease.tick", "source": "/t", "id": "trim-1", "data": {}}'
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{api_url}/api/events", content=event, headers=service)
    assert r.status_code in (200, 202, 204), r.text
    entries = await redis.xrange(stream)
    old = [e for e in entries if e[1].get("old") == "1"]
    assert len(old) <= 100, len(old)
    assert len(entries) > len(old)  # the new event is there
