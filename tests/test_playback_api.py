"""Playback endpoints against a real api process, Redis and PostgreSQL: decision and session
creation, progress into user_item_data, stop, the admin list, and what each announces.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from yaffw import sessions, tokens

from tests._media_rows import insert_item, make_library, make_user
from tests.test_playback_decision import CHROMIUM, NO_HLS


@pytest.fixture(scope="module")
async def setup(pool, settings, sample_media):
    lib = await make_library(pool, sample_media.movies)
    return {
        "mp4": await insert_item(pool, lib, sample_media.mp4, name="Big Buck Test"),
        "mkv": await insert_item(pool, lib, sample_media.mkv, name="Hevc Sample"),
        "bytes": sample_media.mp4.read_bytes(),
        "owner": await make_user(pool, settings, libraries=(lib,)),
        "other": await make_user(pool, settings, libraries=(lib,)),
        "stranger": await make_user(pool, settings),
        "admin": await make_user(pool, settings, admin=True),
    }


def _play(api_url: str, user: dict, item_id: str, **body) -> httpx.Response:
    return httpx.post(f"{api_url}/api/items/{item_id}/playback", json=body, headers=user["headers"], timeout=30)


async def _next_message(pubsub, timeout: float = 10.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if msg:
            return json.loads(msg["data"])
    raise AssertionError("no notification")


async def test_direct_play_session_lifecycle(api_url, setup, redis, keys, pool, settings) -> None:
    owner = setup["owner"]
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.notify)
    stream_start = (await redis.xrevrange(keys.events, count=1) or [("0-0", {})])[0][0]

    r = _play(api_url, owner, setup["mp4"], capabilities=CHROMIUM, client="pytest")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["method"] == "direct_play" and body["audio_index"] == 1
    assert body["master_playlist"] is None  # a file, no HLS
    assert body["url"].startswith(f"/api/items/{setup['mp4']}/file?token=")
    assert body["user_data"]["position_seconds"] == 0
    assert [t["index"] for t in body["audio_tracks"]] == [1]
    sid = body["session_id"]

    # The URL plays without any header: its token is scoped to this item.
    media = httpx.get(api_url + body["url"], headers={"Range": "bytes=0-99"})
    assert media.status_code == 206 and media.content == setup["bytes"][:100]
    token = body["url"].split("token=")[1]
    assert tokens.decode(settings.jwt_secret, token).scope == f"item:{setup['mp4']}"

    stored = await sessions.get(redis, keys, sid)
    assert (stored.user_id, stored.item_id, stored.method, stored.client) == (owner["id"], setup["mp4"],
                                                                               "direct_play", "pytest")  # fmt: skip
    assert stored.job is None and stored.duration_seconds == pytest.approx(30, abs=0.5)
    assert await redis.exists(keys.lease(sid))

    note = await _next_message(pubsub)
    assert note["type"] == "io.yaffw.playback.started" and note["admin_only"]
    assert note["data"]["item_name"] == "Big Buck Test" and note["data"]["user_name"] == owner["name"]
    entries = await redis.xrange(keys.events, min=f"({stream_start}")
    types = [json.loads(e[1]["event"])["type"] for e in entries]
    assert "io.yaffw.playback.started" in types

    # Progress: owner only; lands in user_item_data.
    url = f"{api_url}/api/sessions/{sid}/progress"
    r = httpx.post(url, json={"position_seconds": 12.5, "paused": True}, headers=owner["headers"])
    assert r.status_code == 200, r.text
    assert r.json()["user_data"]["position_seconds"] == 12.5
    assert (await sessions.get(redis, keys, sid)).paused is True
    row = await pool.fetchrow("SELECT position_seconds, played FROM user_item_data WHERE user_id = $1 AND item_id = $2",
                              owner["id"], setup["mp4"])  # fmt: skip
    assert (row["position_seconds"], row["played"]) == (12.5, False)
    assert httpx.post(url, json={"position_seconds": 3}, headers=setup["other"]["headers"]).status_code == 404
    for bad in ({"paused": True}, {"position_seconds": -1}, {"position_seconds": "x"},
                {"position_seconds": 1, "paused": "no"}):  # fmt: skip
        assert httpx.post(url, json=bad, headers=owner["headers"]).status_code == 400
    assert httpx.post(url, content=b"{nope", headers={**owner["headers"], "content-type": "application/json"}
                      ).status_code == 400  # fmt: skip

    # Admins see it; others may not list.
    listed = httpx.get(f"{api_url}/api/sessions", headers=setup["admin"]["headers"]).json()["sessions"]
    mine = next(s for s in listed if s["sid"] == sid)
    assert (mine["user_name"], mine["item_name"], mine["method"], mine["position_seconds"], mine["worker"]) == (
        owner["name"],
        "Big Buck Test",
        "direct_play",
        12.5,
        "",
    )
    assert httpx.get(f"{api_url}/api/sessions", headers=owner["headers"]).status_code == 403

    # Stop: final position saved, session, lease and route gone, announced.
    await redis.set(keys.session_map(sid), "10.0.0.9:9000")
    r = httpx.request("DELETE", f"{api_url}/api/sessions/{sid}", json={"position_seconds": 14.0},
                      headers=owner["headers"])  # fmt: skip
    assert r.status_code == 200 and r.json()["user_data"]["position_seconds"] == 14.0
    assert await sessions.get(redis, keys, sid) is None
    assert not await redis.exists(keys.lease(sid)) and not await redis.exists(keys.session_map(sid))
    assert httpx.request("DELETE", f"{api_url}/api/sessions/{sid}", headers=owner["headers"]).status_code == 404
    note = await _next_message(pubsub)
    assert note["type"] == "io.yaffw.playback.stopped"
    log = [r["type"] for r in await pool.fetch("SELECT type FROM activity_log WHERE item_id = $1 ORDER BY at",
                                               setup["mp4"])]  # fmt: skip
    assert log[-2:] == ["playback.started", "playback.stopped"]
    await pubsub.aclose()


async def test_past_ninety_percent_marks_played(api_url, setup, pool) -> None:
    user = setup["other"]
    sid = _play(api_url, user, setup["mp4"], capabilities=CHROMIUM).json()["session_id"]
    r = httpx.post(f"{api_url}/api/sessions/{sid}/progress", json={"position_seconds": 28.0}, headers=user["headers"])
    assert r.status_code == 200
    assert r.json()["user_data"]["played"] is True and r.json()["user_data"]["position_seconds"] == 0
    # Past the end is clamped to the duration, not refused.
    r = httpx.post(f"{api_url}/api/sessions/{sid}/progress", json={"position_seconds": 1e6}, headers=user["headers"])
    assert r.status_code == 200 and r.json()["position_seconds"] == pytest.approx(30, abs=0.5)
    httpx.request("DELETE", f"{api_url}/api/sessions/{sid}", headers=user["headers"])


async def test_transcode_session_carries_the_job(api_url, setup, redis, keys, sample_media, settings) -> None:
    owner = setup["owner"]
    r = _play(api_url, owner, setup["mkv"], capabilities=CHROMIUM, audio_index=2)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["method"] == "transcode" and "audio codec ac3 not supported" in body["reason"]
    sid = body["session_id"]
    assert body["url"].startswith(f"/api/sessions/{sid}/master.m3u8?token=")
    assert tokens.decode(settings.jwt_secret, body["url"].split("token=")[1]).scope == f"session:{sid}"
    job = (await sessions.get(redis, keys, sid)).job
    assert job.sid == sid and job.source_path == str(sample_media.mkv) and job.start_segment == 0
    assert job.video.codec == "h264" and job.audio.codec == "aac" and job.audio.stream_index == 2
    assert job.segment_seconds == settings.segment_seconds and job.hwaccel == "none"
    # An admin may stop someone else's session; the owner's position is not touched by that.
    r = httpx.request("DELETE", f"{api_url}/api/sessions/{sid}", headers=setup["admin"]["headers"])
    assert r.status_code == 200 and r.json()["user_data"] is None


def test_refusals(api_url, setup) -> None:
    owner = setup["owner"]
    assert _play(api_url, setup["stranger"], setup["mp4"]).status_code == 404
    assert _play(api_url, owner, "00000000-0000-0000-0000-000000000000").status_code == 404
    assert _play(api_url, owner, "garbage").status_code == 404
    for body, code in (({"capabilities": "all"}, "bad_capabilities"), ({"audio_index": 0}, "bad_audio_index"),
                       ({"audio_index": "1"}, "bad_input"), ({"max_bitrate": 0}, "bad_input"),
                       ({"start_seconds": -5}, "bad_input")):  # fmt: skip
        r = _play(api_url, owner, setup["mp4"], **body)
        assert r.status_code == 400 and r.json()["error"]["code"] == code, (body, r.text)
    r = _play(api_url, owner, setup["mkv"], capabilities=NO_HLS)
    assert r.status_code == 400 and r.json()["error"]["code"] == "not_playable"
    assert httpx.post(f"{api_url}/api/items/{setup['mp4']}/playback", json={}).status_code == 401


def test_admin_sessions_page_is_for_admins(api_url, setup) -> None:
    html = {"Accept": "text/html"}
    r = httpx.get(f"{api_url}/admin/sessions", cookies={"yaffw_token": setup["owner"]["token"]}, headers=html)
    assert r.status_code == 403
    r = httpx.get(f"{api_url}/admin/sessions/rows", cookies={"yaffw_token": setup["admin"]["token"]}, headers=html)
    assert r.status_code == 200 and "<tr" in r.text
    assert httpx.get(f"{api_url}/admin/sessions", follow_redirects=False).status_code in (302, 303)
