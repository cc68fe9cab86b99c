# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""Media URL tokens die with the session or account they came from (issue 14), against real api
processes: a direct-play URL and an HLS playlist and segment URL, issued before a logout (``/api``'s
and Jellyfin's ``/Sessions/Logout``), a password change or a disabled account, answer 401 afterwards;
the revocation lasts as long as the longest-lived media token (12 h) even where access tokens live
shorter; another login of the same user keeps its own URLs.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from yaffw import tokens

from tests._media_rows import insert_item, make_library, make_user
from tests.api_fixtures import http, no_login_limits  # noqa: F401
from tests.api_procs import api_process
from tests.jellyfin_support import client_headers
from tests.jellyfin_support import login as jf_login
from tests.test_jellyfin_device_profile import CHROME

pytestmark = pytest.mark.timeout(180)

DIRECT = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "hls": True}
TRANSCODE = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 180, "hls": True}


@pytest.fixture(scope="module")
async def media(pool, settings, sample_media) -> dict:
    lib = await make_library(pool, sample_media.movies, name=f"revoke-{time.time_ns()}")
    return {
        "lib": lib,
        "mp4": await insert_item(pool, lib, sample_media.mp4, name="Revoke Direct"),
        "mkv": await insert_item(pool, lib, sample_media.mkv, name="Revoke Hevc"),
        "admin": await make_user(pool, settings, admin=True),
    }


@pytest.fixture(scope="module")
def short_ttl_api(settings, _scratch) -> str:
    """An api whose access and device tokens live 10 minutes: shorter than media URL tokens."""
    with api_process(settings.replace(jwt_ttl_seconds=600, device_token_ttl_seconds=600),
                     _scratch / "api-short-ttl.log") as url:  # fmt: skip
        yield url


async def _login(http: httpx.AsyncClient, api_url: str, user: dict) -> str:
    r = await http.post(f"{api_url}/api/auth/login", json={"username": user["name"], "password": user["password"]})
    assert r.status_code == 200, r.text
    http.cookies.clear()  # the browser cookie would stand in for the URL tokens under test
    return r.json()["access_token"]


async def _media_urls(http: httpx.AsyncClient, api_url: str, token: str, media: dict) -> dict[str, str]:
    """Direct-play file, HLS variant playlist and segment URLs, each with its ``?token=``."""
    auth = {"Authorization": f"Bearer {token}"}
    urls = {}
    r = await http.post(f"{api_url}/api/items/{media['mp4']}/playback", json={"capabilities": DIRECT}, headers=auth)
    assert r.status_code == 201, r.text
    assert "/file?token=" in r.json()["url"]
    urls["direct"] = urljoin(api_url, r.json()["url"])
    r = await http.post(f"{api_url}/api/items/{media['mkv']}/playback", json={"capabilities": TRANSCODE},
                        headers=auth)  # fmt: skip
    assert r.status_code == 201, r.text
    master = urljoin(api_url, r.json()["url"])
    media.setdefault("sids", []).append(r.json()["session_id"])
    (hls_token,) = parse_qs(urlsplit(master).query)["token"]
    urls["index"] = urljoin(master, f"180p/index.m3u8?token={hls_token}")
    urls["segment"] = urljoin(master, f"180p/0.ts?token={hls_token}")
    urls["master"] = master
    # Working before (the master and segments would start an encoder: not needed to prove it).
    assert (await http.get(urls["direct"], headers={"Range": "bytes=0-0"})).status_code == 206
    assert (await http.get(urls["index"])).status_code == 200
    return urls


async def _all_refused(http: httpx.AsyncClient, urls: dict[str, str]) -> None:
    for name, url in urls.items():
        r = await http.get(url)
        assert r.status_code == 401, (name, r.status_code, r.text[:200])
        assert r.json()["error"]["code"] == "token_revoked", (name, r.text[:200])


async def _close_sessions(http: httpx.AsyncClient, api_url: str, media: dict) -> None:
    for sid in media.pop("sids", []):
        await http.delete(f"{api_url}/api/sessions/{sid}", headers=media["admin"]["headers"])


async def test_logout_revokes_the_media_urls_of_that_session(api_url, pool, settings, media, http,
                                                             no_login_limits) -> None:  # fmt: skip
    user = await make_user(pool, settings, libraries=(media["lib"],))
    token, other = await _login(http, api_url, user), await _login(http, api_url, user)
    urls = await _media_urls(http, api_url, token, media)
    kept = await _media_urls(http, api_url, other, media)
    try:
        r = await http.post(f"{api_url}/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 204
        await _all_refused(http, urls)
        # The user's other login (another browser) keeps playing.
        assert (await http.get(kept["direct"], headers={"Range": "bytes=0-0"})).status_code == 206
        assert (await http.get(kept["index"])).status_code == 200
    finally:
        await _close_sessions(http, api_url, media)


async def test_jellyfin_logout_revokes_its_media_urls(api_url, pool, settings, media, http,
                                                      no_login_limits) -> None:  # fmt: skip
    user = await make_user(pool, settings, libraries=(media["lib"],))
    token = await jf_login(http, api_url, user["name"], user["password"], device="revoke-device")
    headers = client_headers("revoke-device", token)
    r = await http.post(f"{api_url}/Items/{media['mkv'].replace('-', '')}/PlaybackInfo", params={"UserId": user["id"]},
                        json={"DeviceProfile": CHROME}, headers=headers)  # fmt: skip
    assert r.status_code == 200, r.text
    info = r.json()
    media.setdefault("sids", []).append(info["PlaySessionId"])
    transcoding = urljoin(api_url, info["MediaSources"][0]["TranscodingUrl"])
    assert "ApiKey=" in transcoding
    try:
        assert (await http.get(transcoding)).status_code == 200  # no header: the ApiKey in the URL
        assert (await http.post(f"{api_url}/Sessions/Logout", headers=headers)).status_code == 204
        await _all_refused(http, {"transcoding": transcoding})
    finally:
        await _close_sessions(http, api_url, media)


async def test_password_change_and_disabling_revoke_media_urls(short_ttl_api, pool, settings, media, http, redis,
                                                               keys, no_login_limits) -> None:  # fmt: skip
    api = short_ttl_api
    admin = media["admin"]["headers"]
    changed = await make_user(pool, settings, libraries=(media["lib"],))
    disabled = await make_user(pool, settings, libraries=(media["lib"],))
    urls_changed = await _media_urls(http, api, await _login(http, api, changed), media)
    urls_disabled = await _media_urls(http, api, await _login(http, api, disabled), media)
    try:
        r = await http.patch(f"{api}/api/users/{changed['id']}", json={"password": "a whole new password"},
                             headers=admin)  # fmt: skip
        assert r.status_code == 200, r.text
        await _all_refused(http, urls_changed)
        # Access tokens here live 10 minutes, media URL tokens up to 12 h: the revocation outlives both.
        assert await redis.ttl(keys.user_revoked_before(changed["id"])) >= tokens.MAX_MEDIA_TTL
        r = await http.patch(f"{api}/api/users/{disabled['id']}", json={"is_disabled": True}, headers=admin)
        assert r.status_code == 200, r.text
        for name, url in urls_disabled.items():
            assert (await http.get(url)).status_code == 401, name
        assert await redis.ttl(keys.user_revoked_before(disabled["id"])) >= tokens.MAX_MEDIA_TTL
    finally:
        await _close_sessions(http, api, media)


async def test_playlists_echo_only_the_token_that_authenticated_them(api_url, pool, settings, media, http,
                                                                     no_login_limits) -> None:  # fmt: skip
    """``?token=`` is never reflected into a playlist unchecked (``/api`` and Jellyfin HLS)."""
    user = await make_user(pool, settings, libraries=(media["lib"],))
    token = await _login(http, api_url, user)
    urls = await _media_urls(http, api_url, token, media)
    sid = media["sids"][-1]
    evil = "evil\n#EXT-X-ENDLIST\nhttp://attacker.example/x.ts"
    other = tokens.issue(settings.jwt_secret or "", user["id"], False, 600, scope="session:another")[0]
    try:
        # Authenticated by the header: text, or a token not valid for this session, is not echoed.
        for junk in (evil, other):
            r = await http.get(urls["index"].split("?")[0], params={"token": junk},
                               headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert r.status_code == 200, r.text
            assert "evil" not in r.text and "attacker" not in r.text and junk not in r.text
            assert "token=" not in r.text
        # The session's own token: echoed, so the player can fetch the segments (with or without a header).
        (own,) = parse_qs(urlsplit(urls["index"]).query)["token"]
        for headers in ({}, {"Authorization": f"Bearer {token}"}):
            r = await http.get(urls["index"], headers=headers)
            assert r.status_code == 200 and f"token={own}" in r.text
        # Jellyfin's playlist: header credentials, a forged ApiKey in the query.
        jf = client_headers("echo-device", token)
        r = await http.get(f"{api_url}/Videos/{media['mkv'].replace('-', '')}/main.m3u8",
                           params={"PlaySessionId": sid, "ApiKey": evil}, headers=jf)  # fmt: skip
        assert r.status_code == 200, r.text
        assert "evil" not in r.text and "attacker" not in r.text and "EXT-X-ENDLIST\n" in r.text
    finally:
        await _close_sessions(http, api_url, media)
