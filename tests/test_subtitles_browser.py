"""Subtitles on the real player page in headless Chromium (issue 13): the menu lists each stream
(language, title, Forced, kind); turning on a text subtitle puts its known line in the showing text
track's ``activeCues`` at its time, through hls.js's subtitle renditions (``multi_track``, a direct
stream: segmented WebVTT) and through a ``<track>`` with the whole WebVTT (``mov_text.mp4``, direct
play); the choice is remembered for the next visit; hls.js reports no error at all. Real api, worker,
scan, PostgreSQL, Redis and FFmpeg."""

from __future__ import annotations

import json
import time

import pytest

from tests import awkward_media
from tests._media_rows import make_user
from tests._subtitle_media import ASS, MOV_TEXT, MOV_TEXT_LINE, PGS, SRT, scanned_library
from tests.browser import PLAYER_STATE, signed_in_page, start_playing, wait_for_js
from tests.transcode_support import WorkerProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

# The texts of the cues active in the showing text tracks.
ACTIVE = """Array.from(document.getElementById('video').textTracks).filter(t => t.mode === 'showing')
  .flatMap(t => Array.from(t.activeCues || []).map(c => c.text)).join('|')"""

# Every text track with its mode and cues, for failure messages.
TRACKS = """({t: document.getElementById('video').currentTime, tracks: Array.from(document.getElementById('video')
  .textTracks).map(t => ({label: t.label, mode: t.mode, cues: Array.from(t.cues || []).map(c => [c.startTime,
  c.endTime, c.text])}))})"""


@pytest.fixture(scope="module")
async def library(pool, settings, sample_media) -> dict:
    folder = sample_media.root.parent / f"{sample_media.root.name}-subtitles"
    lib, items = await scanned_library(pool, settings, folder, f"subtitled-browser-{time.time_ns()}")
    return {"items": items, "viewer": await make_user(pool, settings, libraries=(lib,))}


@pytest.fixture(scope="module")
def worker(settings, _scratch):
    w = WorkerProcess(settings, _scratch / f"subtitles-browser-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


async def _mp4_only(route) -> None:
    """Matroska goes through HLS (a direct stream), as for most browsers; MP4 plays directly."""
    body = json.loads(route.request.post_data or "{}")
    body.setdefault("capabilities", {})["containers"] = ["mp4"]
    body["capabilities"]["max_height"] = 270
    await route.continue_(post_data=json.dumps(body))


async def _playing(page) -> None:
    """Wait until the video really plays (its time moves): a play() still pending when something
    pauses it would end as a page error."""
    await page.evaluate("window.__t0 = document.getElementById('video').currentTime")
    await wait_for_js(page, "document.getElementById('video').currentTime > window.__t0 + 0.3")


async def _at(page, seconds: float, text: str, *, play: bool = False) -> str:
    """Pause (or play on, ``play``) at ``seconds`` and wait for ``text`` among the active cues; returns them.

    Chromium recomputes ``activeCues`` when the time changes: a cue that arrives after a paused seek
    (its segment was not loaded yet) shows once playback moves on.
    """
    then = "v.play().catch(() => {})" if play else "v.pause()"
    await page.evaluate(
        f"(() => {{ const v = document.getElementById('video'); {then}; v.currentTime = {seconds}; }})()"
    )
    try:
        await wait_for_js(page, f"({ACTIVE}).includes({json.dumps(text)})", timeout=30_000)
    except TimeoutError:
        raise AssertionError(f"{text!r} not shown at {seconds}s: {await page.evaluate(TRACKS)}") from None
    return await page.evaluate(ACTIVE)


async def test_hls_subtitles_on_the_player_page(browser, api_url, library, worker) -> None:
    viewer, item = library["viewer"], library["items"]["multi_track"]
    page = await signed_in_page(browser, api_url, viewer["name"], viewer["password"], width=960, height=600)
    try:
        await page.route("**/api/items/*/playback", _mp4_only)
        await page.goto(f"/items/{item}/play")
        await wait_for_js(page, "document.getElementById('player').dataset.method === 'direct_stream'")
        await start_playing(page)
        # Playing before anything pauses it (a play() cut short by a pause() is a page error).
        await wait_for_js(
            page, "!document.getElementById('video').paused && document.getElementById('video').currentTime > 0"
        )
        # The menu: Off and the three streams, the picture one marked as such; nothing on by default
        # (English audio; the forced track is French).
        await wait_for_js(page, "document.querySelectorAll('#subtitle-track option').length === 4")
        options = await page.evaluate(
            "Array.from(document.querySelectorAll('#subtitle-track option')).map(o => [o.value, o.textContent])"
        )
        assert options == [["off", "Off"], [str(ASS), "French · Signs · Forced"], [str(PGS), "English (image)"],
                           [str(SRT), "English"]], options  # fmt: skip
        assert await page.evaluate("document.getElementById('subtitle-track').value") == "off"
        assert await page.is_visible("#subtitle-track")

        await page.select_option("#subtitle-track", str(SRT))
        active = await _at(page, 3.0, awkward_media.SRT_LINE)
        assert awkward_media.SRT_LINE in active
        await page.select_option("#subtitle-track", str(ASS))
        active = await _at(page, 2.0, awkward_media.ASS_LINE)
        assert awkward_media.SRT_LINE not in active  # one track at a time
        # Off: no track shows.
        await page.select_option("#subtitle-track", "off")
        await wait_for_js(page, f"({ACTIVE}) === ''")
        await page.select_option("#subtitle-track", str(SRT))
        await _at(page, 5.6, awkward_media.SRT_ACROSS, play=True)  # a cue across the segment cut near 6 s
        # hls.js cancels a subtitle load it no longer needs when the track changes mid-load (this test
        # switches within a second) and reports it as a non-fatal "aborted": nothing else may appear.
        errors = await page.evaluate("window.yaffwPlayer.hlsErrors")
        assert [e for e in errors if e["fatal"] or e["details"] != "aborted"] == [], errors
        # No page error, and nothing refused by the Content-Security-Policy (hls.js's subtitle <track>s).
        assert not [p for p in page.problems if p.startswith("pageerror") or "Content Security" in p], page.problems

        # Remembered: the next visit starts with the same subtitles on.
        await page.goto(f"/items/{item}/play?resume=1")
        await wait_for_js(page, "document.getElementById('player').dataset.method === 'direct_stream'")
        await wait_for_js(page, f"document.getElementById('player').dataset.subtitle === '{SRT}'")
        assert await page.evaluate("document.getElementById('subtitle-track').value") == str(SRT)
        # Resumed where the last visit stopped (after 5 s): seek back once the player has done so.
        await start_playing(page)
        await wait_for_js(
            page,
            "!document.getElementById('video').paused && document.getElementById('video').currentTime > 5",
            state=PLAYER_STATE,
        )
        active = await _at(page, 3.0, awkward_media.SRT_LINE)
        assert awkward_media.SRT_LINE in active
    finally:
        await page.context.close()


async def test_direct_play_subtitles_through_a_track_element(browser, api_url, library) -> None:
    viewer, item = library["viewer"], library["items"]["mov_text"]
    page = await signed_in_page(browser, api_url, viewer["name"], viewer["password"], width=960, height=600)
    try:
        await page.route("**/api/items/*/playback", _mp4_only)
        await page.goto(f"/items/{item}/play")
        await wait_for_js(page, "document.getElementById('player').dataset.method === 'direct_play'")
        await wait_for_js(page, "document.querySelectorAll('#subtitle-track option').length === 2")
        await page.select_option("#subtitle-track", str(MOV_TEXT))
        assert await page.evaluate("document.querySelectorAll('#video track').length") == 1
        active = await _at(page, 4.0, MOV_TEXT_LINE)
        assert MOV_TEXT_LINE in active
        await _at_none(page, 1.0)
        assert not [p for p in page.problems if p.startswith("pageerror")], page.problems
    finally:
        await page.context.close()


async def _at_none(page, seconds: float) -> None:
    await page.evaluate(f"document.getElementById('video').currentTime = {seconds}")
    await wait_for_js(page, f"({ACTIVE}) === ''")
