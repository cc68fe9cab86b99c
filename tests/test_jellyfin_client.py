# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""A real Jellyfin client library against a running yaffw (issue 12, "Must show").

``jellyfin-apiclient-python`` (the library of Kodi's Jellyfin add-on and jellyfin-mpv-shim, written
by nobody here) drives a real api process, a real transcode worker and a sample library scanned by
the real scanner, through the library's own calls: connect, log in, views, movies, series →
seasons → episodes, item detail, an image, PlaybackInfo with Jellyfin Web's Chrome DeviceProfile,
a direct stream with a byte range, the TranscodingUrl played by hls.js in headless Chromium with
no header of its own (seek to 50 %, no fatal error), playing/progress/stopped reports after which
yaffw's own ``/api`` and web UI show the same resume position, played and favourite marks, the
resume list, next up, and logout. Every response the library receives is validated against
Jellyfin's OpenAPI document (a ``requests`` response hook); any mismatch fails the test.
"""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import redis.asyncio as redis_async
from jellyfin_apiclient_python import JellyfinClient
from jellyfin_apiclient_python.exceptions import HTTPException
from PIL import Image
from playwright.async_api import TimeoutError as PlaywrightTimeout
from yaffw.sample import SampleLibrary
from yaffw.settings import Settings
from yaffw_api.templating import duration as ui_duration
from yaffw_api.templating import percent as ui_percent

from tests import jellyfin_support as jf
from tests._media_rows import make_user
from tests._scan_helpers import make_library, make_scanner
from tests.api_fixtures import http  # noqa: F401
from tests.browser import signed_in_page
from tests.conftest import DATA_TABLES
from tests.jellyfin_client_support import (
    CHROME_PROFILE,
    ResponseAudit,
    audited_requests,
    check_request_body,
    chrome_profile,
    connect_and_login,
    documented_path,
)
from tests.transcode_support import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TICKS = 10_000_000
PLAY_TIMEOUT_MS = 60_000  # a shared 2-core machine may be busy encoding for other runs


def _hex(value: str) -> str:
    return value.replace("-", "")


@pytest.fixture(scope="module")
async def library(pool: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary) -> dict[str, Any]:
    """The sample media scanned by the real scanner into Movies and Shows, and a viewer who sees both.

    Ids are Jellyfin's (32 hex digits); ``viewer`` also carries a yaffw token for ``/api``.
    """
    # A fresh database for the module: the scanner's rows are unique by path and content.
    await pool.execute("TRUNCATE " + ", ".join(DATA_TABLES) + " CASCADE")
    redis = redis_async.Redis.from_url(settings.redis_url, decode_responses=True)
    try:
        scanner = make_scanner(pool, redis, settings)
        movies = await make_library(pool, "Movies", "movies", [sample_media.movies])
        shows = await make_library(pool, "Shows", "shows", [sample_media.shows])
        await scanner.scan(movies)
        await scanner.scan(shows)
    finally:
        await redis.aclose()
    by_path = {r["path"]: r for r in await pool.fetch("SELECT id::text, path, type, name FROM media_items")}
    series = await pool.fetchrow("SELECT id::text, name FROM media_items WHERE type = 'series' AND library_id = $1",
                                 shows)  # fmt: skip
    seasons = await pool.fetch("SELECT id::text FROM media_items WHERE type = 'season' AND parent_id = $1::uuid "
                               "ORDER BY index_number", series["id"])  # fmt: skip
    viewer = await make_user(pool, settings, libraries=(movies, shows))
    return {
        "movies": _hex(movies), "shows": _hex(shows), "viewer": viewer,
        "mp4": _hex(by_path[str(sample_media.mp4)]["id"]), "hevc": _hex(by_path[str(sample_media.mkv)]["id"]),
        "unicode": _hex(by_path[str(sample_media.unicode)]["id"]),
        "series": _hex(series["id"]), "seasons": [_hex(r["id"]) for r in seasons],
        "episodes": [_hex(by_path[str(p)]["id"]) for p in sample_media.episodes],
    }  # fmt: skip


@pytest.fixture(scope="module")
def worker(settings: Settings, _scratch: Path) -> Iterator[WorkerProcess]:
    """One real transcode worker for the module."""
    w = WorkerProcess(settings, _scratch / f"jf-client-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


@pytest.fixture
async def jelly(api_url: str, library: dict[str, Any]) -> AsyncIterator[tuple[JellyfinClient, ResponseAudit]]:
    """A library client logged in as the viewer (its own device), every response it gets validated."""
    viewer = library["viewer"]
    with audited_requests() as audit:
        client = await asyncio.to_thread(connect_and_login, api_url, viewer["name"], viewer["password"],
                                         f"jf-client-{uuid.uuid4().hex[:8]}")  # fmt: skip
        yield client, audit
        client.stop()
    audit.assert_clean()


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The library is synchronous (requests): run its calls off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


async def test_connect_login_browse_detail_and_image(jelly, library, api_url: str) -> None:
    client, audit = jelly
    api = client.jellyfin
    assert client.auth.server_id and client.config.data["auth.user_id"] == _hex(library["viewer"]["id"])
    me = await call(api.get_user)
    assert me["Name"] == library["viewer"]["name"]

    views = (await call(api.get_views))["Items"]
    assert {(v["Id"], v["Type"], v.get("CollectionType")) for v in views} == {
        (library["movies"], "CollectionFolder", "movies"),
        (library["shows"], "CollectionFolder", "tvshows"),
    }

    movies = await call(api.get_user_items, parent_id=library["movies"], include_item_types="Movie", recursive=True,
                        sort_by="SortName", sort_order="Ascending", fields="PrimaryImageAspectRatio,MediaSourceCount",
                        enable_user_data=True)  # fmt: skip
    assert movies["TotalRecordCount"] == 3
    assert {m["Id"] for m in movies["Items"]} == {library["mp4"], library["hevc"], library["unicode"]}
    assert all(m["Type"] == "Movie" for m in movies["Items"])

    # Item detail, as Kodi asks for it (the library's default Fields).
    detail = await call(api.get_item, library["mp4"])
    assert (detail["Name"], detail["ProductionYear"], detail["Type"]) == ("Big Buck Test", 2020, "Movie")
    assert abs(detail["RunTimeTicks"] - 30 * TICKS) < TICKS // 2
    assert detail["MediaSources"][0]["Container"] and detail["ImageTags"]["Primary"]
    many = await call(api.get_items, [library["mp4"], library["hevc"]])
    assert {i["Id"] for i in many["Items"]} == {library["mp4"], library["hevc"]}

    # Series -> seasons -> episodes.
    shows = await call(api.get_user_items, parent_id=library["shows"], include_item_types="Series", recursive=True)
    assert [s["Id"] for s in shows["Items"]] == [library["series"]]
    seasons = (await call(api.get_seasons, library["series"]))["Items"]
    assert [s["Id"] for s in seasons] == library["seasons"]
    assert [s["IndexNumber"] for s in seasons] == [1, 2]
    episodes = (await call(api.get_episodes, library["series"], season_id=library["seasons"][0]))["Items"]
    assert [(e["Id"], e["ParentIndexNumber"], e["IndexNumber"]) for e in episodes] == [
        (library["episodes"][0], 1, 1), (library["episodes"][1], 1, 2)]  # fmt: skip
    assert all(e["SeriesId"] == library["series"] and e["SeasonId"] == library["seasons"][0] for e in episodes)
    everything = (await call(api.get_episodes, library["series"]))["Items"]
    assert [e["Id"] for e in everything] == library["episodes"]

    latest = await call(api.get_recently_added, limit=10)
    assert isinstance(latest, list) and latest  # a bare array, as Jellyfin answers it

    # An image, fetched as a player does with the URL the library builds (the library's own
    # session, so it is validated too); a resized copy no wider than asked.
    url = api.image_url(library["mp4"], "Primary", max_width=120, tag=detail["ImageTags"]["Primary"])
    image = await call(client.http.session.get, url, timeout=30)
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    assert Image.open(io.BytesIO(image.content)).width <= 120
    assert len(audit.seen) >= 10


async def test_playback_info_and_a_direct_stream_with_a_byte_range(jelly, library, sample_media) -> None:
    client, _ = jelly
    api = client.jellyfin
    check_request_body("DeviceProfile", CHROME_PROFILE)  # a profile Jellyfin itself accepts
    info = await call(api.get_play_info, library["mp4"], profile=CHROME_PROFILE)
    assert info["PlaySessionId"]
    [source] = info["MediaSources"]
    assert source["SupportsDirectPlay"] is True and source["SupportsDirectStream"] is True
    assert {s["Type"] for s in source["MediaStreams"]} >= {"Video", "Audio"}
    video = next(s for s in source["MediaStreams"] if s["Type"] == "Video")
    assert (video["Codec"], video["Width"], video["Height"]) == ("h264", 640, 360)

    # The URL Kodi plays: /Videos/{id}/stream?static=true&MediaSourceId=…&ApiKey=…, read in pieces.
    url = api.video_url(library["mp4"], media_source_id=source["Id"])
    first = await call(client.http.session.get, url, headers={"Range": "bytes=0-1023"}, timeout=30)
    assert first.status_code == 206, first.text[:300]
    size = sample_media.mp4.stat().st_size
    assert first.headers["content-range"] == f"bytes 0-1023/{size}"
    data = sample_media.mp4.read_bytes()
    assert first.content == data[:1024]
    tail = await call(client.http.session.get, url, headers={"Range": "bytes=-500"}, timeout=30)
    assert tail.status_code == 206 and tail.content == data[-500:]
    await call(api.close_transcode, client.config.data["app.device_id"], info["PlaySessionId"])


# The page hls.js runs in: served at the api's origin by the test (page.route), nothing but the
# library's bundled hls.js and a <video>. hls.js fetches the TranscodingUrl with no header of ours.
HLS_PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<video id="video" muted playsinline width="640" height="360"></video>
<script src="/static/hls.min.js"></script>
<script>
const seen = window.__seen = { fatal: [], errors: [], frags: 0, headers: [] };
const video = document.getElementById("video");
const hls = window.__hls = new Hls();
hls.on(Hls.Events.ERROR, (_, d) => {
  const what = `${d.type}:${d.details}` + (d.response ? ` ${d.response.code}` : "");
  (d.fatal ? seen.fatal : seen.errors).push(what);
});
hls.on(Hls.Events.FRAG_LOADED, () => { seen.frags += 1; });
hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => seen.errors.push("play: " + e)));
hls.loadSource(SOURCE_URL);
hls.attachMedia(video);
</script></body></html>"""


async def _until(page: Any, condition: str, what: str) -> None:
    try:
        await page.wait_for_function(f"(() => {{ const v = document.getElementById('video'); return {condition}; }})()",
                                     timeout=PLAY_TIMEOUT_MS)  # fmt: skip
    except PlaywrightTimeout:
        state = await page.evaluate("({seen: window.__seen, t: document.getElementById('video').currentTime})")
        raise AssertionError(f"{what}: {state}") from None


@pytest.mark.browser
async def test_transcoding_url_plays_in_hls_js_without_any_header(
    jelly, library, api_url: str, browser, worker: WorkerProcess, artifacts: Path
) -> None:
    client, _ = jelly
    api = client.jellyfin
    # HEVC is not in Chrome's profile: yaffw transcodes, and says where the stream is.
    info = await call(api.get_play_info, library["hevc"], profile=chrome_profile(max_width=640))
    [source] = info["MediaSources"]
    assert source["SupportsDirectPlay"] is False and source["SupportsTranscoding"] is True
    assert source["TranscodingSubProtocol"] == "hls" and source["TranscodingContainer"] == "ts"
    transcoding_url = source["TranscodingUrl"]
    assert "ApiKey=" in transcoding_url and f"PlaySessionId={info['PlaySessionId']}" in transcoding_url
    run_ticks = source["RunTimeTicks"]

    context = await browser.new_context(base_url=api_url)
    requests_seen: list[dict[str, str]] = []
    answers: list[tuple[str, str, int]] = []
    try:
        page = await context.new_page()
        page.on("request", lambda r: "/videos/" in r.url and requests_seen.append(r.headers))
        page.on("response", lambda r: "/videos/" in r.url and answers.append((r.request.method, r.url, r.status)))
        page_url = f"{api_url}/__jellyfin_hls_test.html"
        html = HLS_PAGE.replace("SOURCE_URL", repr(transcoding_url))
        await page.route(page_url, lambda route: route.fulfill(status=200, content_type="text/html", body=html))
        await page.goto(page_url)
        await _until(page, "v.currentTime > 0.5 && v.videoWidth > 0", "no first frame")
        target = run_ticks / TICKS / 2
        await page.evaluate(f"document.getElementById('video').currentTime = {target}")
        await _until(page, f"!v.seeking && v.currentTime > {target + 1.0}", "no playback after the seek to 50%")
        await page.evaluate("document.getElementById('video').pause()")
        await page.screenshot(path=str(artifacts / "jellyfin-hls-js.png"))
        assert await page.evaluate("document.getElementById('video').videoWidth") <= 640
        seen = await page.evaluate("window.__seen")
        assert seen["fatal"] == [], seen
        assert seen["frags"] >= 2, seen
    finally:
        await context.close()
    assert requests_seen and not [h for h in requests_seen if "authorization" in h or "x-emby-token" in h]
    for method, url, status in answers:  # playlists and segments: statuses Jellyfin documents
        assert status in (200, 206), (method, url, status)
        jf.response_schema(method, documented_path(urlsplit(url).path), 200)
    assert {urlsplit(u).path.rsplit("/", 1)[-1] for _, u, _ in answers} >= {"master.m3u8", "main.m3u8"}

    # The app says it stopped; the encoder is let go.
    report = {"ItemId": library["hevc"], "MediaSourceId": source["Id"], "PlaySessionId": info["PlaySessionId"],
              "PositionTicks": int(target * TICKS), "PlayMethod": "Transcode"}  # fmt: skip
    await call(api.session_stop, report)
    await call(api.close_transcode, client.config.data["app.device_id"], info["PlaySessionId"])
    assert worker.proc.poll() is None, worker.log()


@pytest.mark.browser
async def test_progress_reports_show_the_same_resume_point_in_yaffws_api_and_web_ui(
    jelly, library, api_url: str, browser, http: httpx.AsyncClient, artifacts: Path
) -> None:
    client, _ = jelly
    api = client.jellyfin
    item = library["mp4"]
    info = await call(api.get_play_info, item, profile=CHROME_PROFILE)
    [source] = info["MediaSources"]
    base = {"ItemId": item, "MediaSourceId": source["Id"], "PlaySessionId": info["PlaySessionId"],
            "PlayMethod": "DirectPlay", "CanSeek": True, "AudioStreamIndex": 1}  # fmt: skip
    position = 12.5
    await call(api.session_playing, {**base, "PositionTicks": 0, "IsPaused": False})
    await call(api.session_progress, {**base, "PositionTicks": 6 * TICKS, "IsPaused": False, "EventName": "TimeUpdate"})
    await call(api.session_progress, {**base, "PositionTicks": int(position * TICKS), "IsPaused": True,
                                      "EventName": "Pause"})  # fmt: skip
    await call(api.session_stop, {**base, "PositionTicks": int(position * TICKS)})

    # The Jellyfin side.
    ud = (await call(api.get_item, item))["UserData"]
    assert ud["PlaybackPositionTicks"] == int(position * TICKS) and ud["Played"] is False
    assert ud["PlayedPercentage"] == pytest.approx(100 * position / 30, abs=1)
    # Continue watching, most recent first (the film hls.js stopped at 50 % may follow it).
    resume = (await call(api.get_resume_items))["Items"]
    assert resume[0]["Id"] == item and resume[0]["UserData"]["PlaybackPositionTicks"] == int(position * TICKS)
    resume_rows = (await call(api._get, "UserItems/Resume", {"UserId": "{UserId}"}))["Items"]
    assert [i["Id"] for i in resume_rows] == [i["Id"] for i in resume]
    user_data = await call(api.get_userdata_for_item, item)
    assert user_data["PlaybackPositionTicks"] == int(position * TICKS)

    # yaffw's own API: the same position.
    viewer = library["viewer"]
    uid = str(uuid.UUID(item))
    mine = (await http.get(f"{api_url}/api/items/{uid}", headers=viewer["headers"])).json()
    assert mine["user_data"]["position_seconds"] == pytest.approx(position)
    continuing = (await http.get(f"{api_url}/api/resume", headers=viewer["headers"])).json()["items"]
    assert [i["id"].replace("-", "") for i in continuing] == [i["Id"] for i in resume]
    assert continuing[0]["user_data"]["position_seconds"] == pytest.approx(position)
    seconds = mine["duration_seconds"]

    # yaffw's web UI: "Continue watching" on the home page and the item page's resume bar.
    page = await signed_in_page(browser, api_url, viewer["name"], viewer["password"], width=1280, height=800)
    try:
        card = page.locator(f"#continue-watching [data-item-id='{uid}'] [role=progressbar]")
        assert await card.get_attribute("aria-valuenow") == str(ui_percent(position, seconds))
        await page.screenshot(path=str(artifacts / "jellyfin-resume-home.png"))
        await page.goto(f"/items/{uid}")
        assert (await page.locator("#play").inner_text()).strip() == "Resume"
        assert await page.get_by_text(f"{ui_duration(seconds - position)} left").count() == 1
    finally:
        await page.context.close()


async def test_played_and_favourite_marks_and_next_up(jelly, library) -> None:
    client, _ = jelly
    api = client.jellyfin
    ep1, ep2, ep3 = library["episodes"]
    nxt = (await call(api.get_next, series_id=library["series"]))["Items"]
    assert [e["Id"] for e in nxt] == [ep1]

    marked = await call(api.item_played, ep1, True)
    assert marked["Played"] is True and marked["PlayCount"] >= 1
    nxt = (await call(api.get_next, series_id=library["series"], limit=5))["Items"]
    assert [e["Id"] for e in nxt] == [ep2]
    await call(api.item_played, ep2, True)
    assert [e["Id"] for e in (await call(api.get_next, series_id=library["series"]))["Items"]] == [ep3]
    unmarked = await call(api.item_played, ep2, False)
    assert unmarked["Played"] is False
    assert (await call(api.get_userdata_for_item, ep2))["Played"] is False
    played = await call(api.get_user_items, parent_id=library["shows"], recursive=True, filters="IsPlayed",
                        include_item_types="Episode")  # fmt: skip
    assert [e["Id"] for e in played["Items"]] == [ep1]

    fav = await call(api.favorite, library["hevc"], True)
    assert fav["IsFavorite"] is True
    favourites = await call(api.get_user_items, recursive=True, filters="IsFavorite")
    assert [i["Id"] for i in favourites["Items"]] == [library["hevc"]]
    assert (await call(api.get_item, library["hevc"]))["UserData"]["IsFavorite"] is True
    assert (await call(api.favorite, library["hevc"], False))["IsFavorite"] is False
    assert (await call(api.get_user_items, recursive=True, is_favorite=True))["Items"] == []


async def test_logout_refuses_the_token(jelly, library, api_url: str) -> None:
    client, _ = jelly
    api = client.jellyfin
    stream_url = api.video_url(library["mp4"])  # carries the token, as a player gets it
    assert (await call(api.get_user))["Id"]
    await call(api.sessions, "/Logout", "POST")
    with pytest.raises(HTTPException) as refused:
        await call(api.get_views)
    assert refused.value.status == "Unauthorized"
    assert client.config.data["auth.token"] is None  # the library forgot it on the 401
    # A URL carrying the old token is refused too. (Jellyfin documents its stream endpoint without
    # auth, so this 401 is yaffw's own and read outside the audit.)
    async with httpx.AsyncClient(timeout=30) as bare:
        assert (await bare.get(stream_url, headers={"Range": "bytes=0-99"})).status_code == 401
