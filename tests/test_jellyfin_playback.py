# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""Playback on the Jellyfin surface against the real api, Redis, PostgreSQL and a worker (issue 12):
PlaybackInfo with a Jellyfin Web DeviceProfile, the direct stream with byte ranges, the TranscodingUrl
played with no header at all, reports that move yaffw's own resume position, the admin sessions list,
ActiveEncodings ending the encoder, and other users kept out. Every JSON answer is checked against
Jellyfin's OpenAPI document.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from yaffw import sessions, tokens

from tests._media_rows import insert_item, make_library, make_user
from tests.api_fixtures import http  # noqa: F401
from tests.jellyfin_support import client_headers, validate
from tests.test_jellyfin_device_profile import CHROME
from tests.transcode_support import WorkerProcess, ffmpeg_pids_with, get_segment, playlist_segments, probe_segment

pytestmark = pytest.mark.timeout(240)
TICKS = 10_000_000


@pytest.fixture(scope="module")
async def media(pool, settings, sample_media):
    lib = await make_library(pool, sample_media.movies, name=f"jf-play-{time.time_ns()}")
    series = str(await pool.fetchval(
        "INSERT INTO media_items (library_id, type, name, sort_name) VALUES ($1, 'series', 'S', 'S') RETURNING id",
        lib))  # fmt: skip
    out = {
        "mp4": await insert_item(pool, lib, sample_media.mp4, name="Jf Direct"),
        "mkv": await insert_item(pool, lib, sample_media.mkv, name="Jf Hevc"),
        "series": series,
        "bytes": sample_media.mp4.read_bytes(),
        "owner": await make_user(pool, settings, libraries=(lib,)),
        "stranger": await make_user(pool, settings),
        "admin": await make_user(pool, settings, admin=True),
    }
    for who in ("owner", "stranger", "admin"):
        out[who]["jf"] = client_headers(f"jf-play-{who}", out[who]["token"])
    return out


def _hex(item_id: str) -> str:
    return item_id.replace("-", "")


async def _playback_info(client: httpx.AsyncClient, api_url: str, user: dict, item_id: str, **body) -> dict:
    r = await client.post(f"{api_url}/Items/{_hex(item_id)}/PlaybackInfo", params={"UserId": user["id"]},
                        json={"DeviceProfile": CHROME, **body}, headers=user["jf"])  # fmt: skip
    assert r.status_code == 200, r.text
    return validate(r)


async def _open_sids(client: httpx.AsyncClient, api_url: str, admin: dict) -> set[str]:
    r = await client.get(f"{api_url}/api/sessions", headers=admin["headers"])
    assert r.status_code == 200
    return {s["sid"] for s in r.json()["sessions"]}


async def _position(client: httpx.AsyncClient, api_url: str, user: dict, item_id: str) -> dict:
    r = await client.get(f"{api_url}/api/items/{item_id}", headers=user["headers"])
    assert r.status_code == 200, r.text
    return r.json()["user_data"]


async def _encoder_ends(sid: str, quiet: float = 2.5, budget: float = 20) -> bool:
    """True once no FFmpeg of session ``sid`` has run for ``quiet`` seconds (within ``budget``)."""
    deadline, quiet_since = time.monotonic() + budget, time.monotonic()
    while time.monotonic() < deadline:
        if ffmpeg_pids_with(sid):
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= quiet:
            return True
        await asyncio.sleep(0.2)
    return False


async def test_direct_play_stream_and_reports(api_url, media, http: httpx.AsyncClient) -> None:
    owner, admin, stranger = media["owner"], media["admin"], media["stranger"]
    info = await _playback_info(http, api_url, owner, media["mp4"], StartTimeTicks=0, AudioStreamIndex=1)
    (source,) = info["MediaSources"]
    sid = info["PlaySessionId"]
    assert len(sid) == 32 and source["Id"] == _hex(media["mp4"]) and "ErrorCode" not in info
    assert source["SupportsDirectPlay"] and source["SupportsDirectStream"] and "TranscodingUrl" not in source
    assert source["Container"] == "mp4" and source["Protocol"] == "File" and "Path" not in source
    assert source["DefaultAudioStreamIndex"] == 1 and source["RunTimeTicks"] == pytest.approx(30 * TICKS, rel=0.02)
    assert {s["Type"] for s in source["MediaStreams"]} == {"Video", "Audio"}
    assert sid in await _open_sids(http, api_url, admin)

    # The stream URL Jellyfin Web builds: the access token in the query, a byte range.
    url = f"{api_url}/Videos/{_hex(media['mp4'])}/stream.mp4"
    params = {"Static": "true", "MediaSourceId": source["Id"], "Tag": source["ETag"], "api_key": owner["token"]}
    r = await http.get(url, params=params, headers={"Range": "bytes=100-1123"})
    assert r.status_code == 206 and r.content == media["bytes"][100:1124]
    assert r.headers["content-range"] == f"bytes 100-1123/{len(media['bytes'])}"
    head = await http.head(f"{api_url}/videos/{_hex(media['mp4'])}/stream", params={**params, "static": "true"})
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(media["bytes"])
    validate(head)
    # Not static: the file only when it is what was asked; another source id or user: 404.
    r = await http.get(url, params={**params, "Static": "false"}, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    r = await http.get(url.replace(".mp4", ".webm"), params={"api_key": owner["token"], "VideoCodec": "vp9"})
    assert r.status_code == 400
    r = await http.get(url, params={**params, "MediaSourceId": _hex(media["mkv"])})
    assert r.status_code == 404
    assert (await http.get(url, params={**params, "api_key": stranger["token"]})).status_code == 404
    assert (await http.get(url, params={"Static": "true"})).status_code == 401

    # Reports move yaffw's own resume position.
    report = {"ItemId": _hex(media["mp4"]), "PlaySessionId": sid, "MediaSourceId": source["Id"],
              "PlayMethod": "DirectStream", "CanSeek": True}  # fmt: skip
    r = await http.post(f"{api_url}/Sessions/Playing", json={**report, "PositionTicks": 0}, headers=owner["jf"])
    assert r.status_code == 204
    validate(r)
    paused = {**report, "PositionTicks": 10 * TICKS, "IsPaused": True}
    r = await http.post(f"{api_url}/Sessions/Playing/Progress", json=paused, headers=owner["jf"])
    assert r.status_code == 204
    assert (await _position(http, api_url, owner, media["mp4"]))["position_seconds"] == pytest.approx(10)
    r = await http.post(f"{api_url}/Sessions/Playing/Ping", params={"playSessionId": sid}, headers=owner["jf"])
    assert r.status_code == 204
    # Bad types are 400; someone else reporting on this session is 404.
    for bad in ({"PositionTicks": "ten"}, {"IsPaused": "yes"}, {"ItemId": 5}, {"ItemId": "not-an-id"}):
        r = await http.post(f"{api_url}/Sessions/Playing/Progress", json={**report, **bad}, headers=owner["jf"])
        assert r.status_code == 400, bad
    r = await http.post(f"{api_url}/Sessions/Playing/Progress", json={**report, "PositionTicks": 1},
                        headers=stranger["jf"])  # fmt: skip
    assert r.status_code == 404
    r = await http.post(f"{api_url}/Sessions/Playing/Stopped", json={**report, "PositionTicks": 12 * TICKS},
                        headers=owner["jf"])  # fmt: skip
    assert r.status_code == 204
    assert (await _position(http, api_url, owner, media["mp4"]))["position_seconds"] == pytest.approx(12)
    assert sid not in await _open_sids(http, api_url, admin)


async def test_transcoding_url_plays_without_headers(api_url, media, http: httpx.AsyncClient, settings, tmp_path,
                                                     redis, keys) -> None:  # fmt: skip
    owner, stranger = media["owner"], media["stranger"]
    worker = WorkerProcess(settings, tmp_path / "worker.log").wait_ready()
    try:
        # Chrome cannot play HEVC; a low bitrate keeps the transcode small and quick.
        info = await _playback_info(http, api_url, owner, media["mkv"], MaxStreamingBitrate=1_000_000)
        (source,) = info["MediaSources"]
        sid = info["PlaySessionId"]
        assert not source["SupportsDirectPlay"] and not source["SupportsDirectStream"]
        assert source["SupportsTranscoding"] and source["TranscodingSubProtocol"] == "hls"
        assert source["TranscodingContainer"] == "ts"
        url = source["TranscodingUrl"]
        assert url.startswith(f"/videos/{_hex(media['mkv'])}/master.m3u8?")
        query = parse_qs(urlsplit(url).query)
        assert query["PlaySessionId"] == [sid] and query["VideoCodec"] == ["h264"]
        assert query["TranscodeReasons"] == ["VideoCodecNotSupported,ContainerNotSupported"]
        claims = tokens.decode(settings.jwt_secret, query["ApiKey"][0])
        assert claims.scope == f"session:{sid}"

        async with httpx.AsyncClient(timeout=60) as bare:  # no header at all, as a player would
            master_url = urljoin(api_url, url)
            master = await bare.get(master_url)
            assert master.status_code == 200, master.text
            assert master.headers["content-type"].startswith("application/vnd.apple.mpegurl")
            variant = next(line for line in master.text.splitlines() if line.startswith("main.m3u8?"))
            main_url = urljoin(master_url, variant)
            main = await bare.get(main_url)
            assert main.status_code == 200 and main.text.rstrip().endswith("#EXT-X-ENDLIST")
            segs = playlist_segments(main.text)
            assert abs(sum(length for length, _ in segs) - 20) < 0.5
            first = urljoin(main_url, segs[0][1])
            assert "/hls1/" in first and "runtimeTicks=0" in first and "actualSegmentLengthTicks=" in first
            path, _ = await get_segment(bare, first, tmp_path / "0.ts")
            probed = probe_segment(path)
            assert set(probed) == {"video", "audio"} and abs(probed["video"][0]) < 0.1
            assert await redis.ttl(keys.lease(sid)) > settings.lease_seconds - 10
            # Without credentials, or someone else's: nothing.
            assert (await bare.get(main_url.split("?")[0], params={"PlaySessionId": sid})).status_code == 401
            r = await bare.get(main_url.split("?")[0], params={"PlaySessionId": sid}, headers=stranger["jf"])
            assert r.status_code == 404
            other = main_url.replace(_hex(media["mkv"]), _hex(media["mp4"]))
            assert (await bare.get(other)).status_code == 404

        # DELETE /Videos/ActiveEncodings ends the session and the worker's encoder, keeps the position.
        report = {"ItemId": _hex(media["mkv"]), "PlaySessionId": sid}
        r = await http.post(f"{api_url}/Sessions/Playing/Progress", json={**report, "PositionTicks": 3 * TICKS},
                            headers=owner["jf"])  # fmt: skip
        assert r.status_code == 204
        r = await http.delete(f"{api_url}/Videos/ActiveEncodings", params={"DeviceId": "jf-play-owner",
                              "PlaySessionId": sid}, headers=owner["jf"])  # fmt: skip
        assert r.status_code == 204
        validate(r)
        assert await sessions.get(redis, keys, sid) is None
        assert await _encoder_ends(sid)
        assert (await _position(http, api_url, owner, media["mkv"]))["position_seconds"] == pytest.approx(3)
        # The player's Stopped report after that still lands.
        r = await http.post(f"{api_url}/Sessions/Playing/Stopped", json={**report, "PositionTicks": 4 * TICKS},
                            headers=owner["jf"])  # fmt: skip
        assert r.status_code == 204
        assert (await _position(http, api_url, owner, media["mkv"]))["position_seconds"] == pytest.approx(4)

        # A master playlist asked for with header credentials and no PlaySessionId opens a session,
        # and its URIs carry that session and a token scoped to it.
        master_path = f"{api_url}/Videos/{_hex(media['mkv'])}/master.m3u8"
        head = await http.head(master_path, params={"PlaySessionId": sid, "ApiKey": query["ApiKey"][0]})
        assert head.status_code == 404  # that session is over
        r = await http.get(master_path, params={"MaxStreamingBitrate": 500_000, "AudioCodec": "aac"},
                           headers=owner["jf"])  # fmt: skip
        assert r.status_code == 200, r.text
        variant = parse_qs(urlsplit(next(x for x in r.text.splitlines() if x.startswith("main.m3u8?"))).query)
        new_sid = variant["PlaySessionId"][0]
        assert new_sid != sid and tokens.decode(settings.jwt_secret, variant["ApiKey"][0]).scope == f"session:{new_sid}"
        r = await http.delete(f"{api_url}/Videos/ActiveEncodings", params={"PlaySessionId": new_sid},
                              headers=owner["jf"])  # fmt: skip
        assert r.status_code == 204 and await sessions.get(redis, keys, new_sid) is None
        # The worker may have taken the job just before the stop and start its encoder just after:
        # its lease check (every second) ends it.
        assert await _encoder_ends(new_sid)
    finally:
        worker.stop()


async def test_playback_info_edges_and_sessions_from_reports(api_url, media, http: httpx.AsyncClient) -> None:
    owner, admin, stranger = media["owner"], media["admin"], media["stranger"]
    # GET (no profile): nothing restricted, so the HEVC file plays directly.
    r = await http.get(f"{api_url}/Items/{_hex(media['mkv'])}/PlaybackInfo", params={"userId": owner["id"]},
                       headers=owner["jf"])  # fmt: skip
    info = validate(r)
    assert r.status_code == 200 and info["MediaSources"][0]["SupportsDirectPlay"]
    await http.post(f"{api_url}/Sessions/Playing/Stopped", headers=owner["jf"],
                    json={"ItemId": _hex(media["mkv"]), "PlaySessionId": info["PlaySessionId"]})  # fmt: skip
    # A folder, or a profile that plays nothing: ErrorCode, no session.
    info = await _playback_info(http, api_url, owner, media["series"])
    assert info["ErrorCode"] == "NoCompatibleStream" and "PlaySessionId" not in info
    info = await _playback_info(http, api_url, owner, media["mkv"], EnableTranscoding=False)
    assert info["ErrorCode"] == "NoCompatibleStream" and not info["MediaSources"][0]["SupportsDirectPlay"]
    # Someone else's item, a bad body, someone else's user id.
    r = await http.post(f"{api_url}/Items/{_hex(media['mp4'])}/PlaybackInfo", json={}, headers=stranger["jf"])
    assert r.status_code == 404
    validate(r)
    for bad in ({"MaxStreamingBitrate": "fast"}, {"DeviceProfile": []}, {"EnableDirectPlay": "no"}):
        r = await http.post(f"{api_url}/Items/{_hex(media['mp4'])}/PlaybackInfo", json=bad, headers=owner["jf"])
        assert r.status_code == 400, bad
    r = await http.post(f"{api_url}/Items/{_hex(media['mp4'])}/PlaybackInfo", params={"userId": admin["id"]},
                        json={}, headers=owner["jf"])  # fmt: skip
    assert r.status_code == 403  # another user's id, as Jellyfin

    # A client playing a file without PlaybackInfo: its start report opens a session.
    before = await _open_sids(http, api_url, admin)
    report = {"ItemId": _hex(media["mp4"]), "PositionTicks": 5 * TICKS, "PlayMethod": "DirectPlay"}
    r = await http.post(f"{api_url}/Sessions/Playing", json=report, headers=owner["jf"])
    assert r.status_code == 204
    (sid,) = await _open_sids(http, api_url, admin) - before
    r = await http.get(f"{api_url}/api/sessions", headers=admin["headers"])
    mine = next(s for s in r.json()["sessions"] if s["sid"] == sid)
    assert mine["method"] == "direct_play" and mine["user_id"] == owner["id"] and "yaffw tests" in mine["client"]
    r = await http.post(f"{api_url}/Sessions/Playing/Progress", json={**report, "PositionTicks": 28 * TICKS},
                        headers=owner["jf"])  # fmt: skip
    assert r.status_code == 204
    data = await _position(http, api_url, owner, media["mp4"])
    assert data["played"] and data["position_seconds"] == 0  # past 90%: played, as /api marks it
    r = await http.post(f"{api_url}/Sessions/Playing/Stopped", json=report, headers=owner["jf"])
    assert r.status_code == 204
    assert sid not in await _open_sids(http, api_url, admin)
    r = await http.post(f"{api_url}/Sessions/Playing", json=report, headers=stranger["jf"])
    assert r.status_code == 404
