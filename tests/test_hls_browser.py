"""hls.js in headless Chromium, on the real player page, through the real api and a real transcode
worker: the HEVC sample (transcoded to H.264) and an H.264 + AC-3 file (direct stream: video
copied, audio to AAC). For each: the first frame shows, a seek to 50% plays on, hls.js reports no
fatal error; then every segment of the variant that played, fetched through the api, passes ffprobe
and the segments' durations add up to the item's. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout
from yaffw import sessions

from tests._media_rows import insert_item, make_library, make_user
from tests.browser import signed_in_page, start_playing, wait_for_js
from tests.transcode_support import (
    WorkerProcess,
    get_segment,
    make_h264_ac3,
    playlist_segments,
    probe_segment,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

# Generous: a shared 2-core machine may be busy transcoding for other test runs too.
PLAY_TIMEOUT_MS = 60_000

# Before any page script: every Hls instance the player makes reports its errors (fatal ones apart)
# and the fragments it loads. hls.js's bundle assigns ``globalThis.Hls``; a setter hooks it there.
HLS_HOOK = """
(() => {
  const seen = window.__hlsSeen = { fatal: [], errors: [], frags: [] };
  let real;
  Object.defineProperty(window, "Hls", {
    configurable: true,
    get() { return real; },
    set(H) {
      real = H;
      if (!H || H.__yaffwHooked) return;
      H.__yaffwHooked = true;
      const loadSource = H.prototype.loadSource;
      H.prototype.loadSource = function (url) {
        window.__hls = this;
        this.on(H.Events.ERROR, (_, d) => {
          const what = `${d.type}:${d.details}` + (d.response ? ` ${d.response.code}` : "");
          (d.fatal ? seen.fatal : seen.errors).push(what);
        });
        this.on(H.Events.FRAG_LOADED, (_, d) => seen.frags.push([d.frag.level, d.frag.sn]));
        return loadSource.call(this, url);
      };
    },
  });
})();
"""

# The player's capabilities, but a screen no taller than 360 lines: the ladder stays small, so a
# loaded 2-core machine encodes ahead of playback.
MAX_HEIGHT = 360


@pytest.fixture(scope="module")
async def media(pool, settings, sample_media) -> dict:
    """The HEVC sample and an H.264 + AC-3 film in one library, and a viewer allowed to see it."""
    ac3 = make_h264_ac3(sample_media.root.parent / f"{sample_media.root.name}-h264-ac3.mkv")
    hevc_lib = await make_library(pool, sample_media.movies, name=f"hls-browser-{time.time_ns()}")
    ac3_lib = await make_library(pool, ac3.parent, name=f"hls-browser-ac3-{time.time_ns()}")
    return {
        "transcode": await insert_item(pool, hevc_lib, sample_media.mkv, name="Hevc Sample"),
        "direct_stream": await insert_item(pool, ac3_lib, ac3, name="Surround Test"),
        "viewer": await make_user(pool, settings, libraries=(hevc_lib, ac3_lib)),
    }


@pytest.fixture(scope="module")
def worker(settings, _scratch) -> WorkerProcess:
    """One real transcode worker for the module (warm for the second test)."""
    w = WorkerProcess(settings, _scratch / f"hls-browser-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


async def _until(page, condition: str, what: str) -> None:
    """Wait for ``condition`` on the video element ``v``; on timeout, fail with what hls.js said."""
    try:
        await wait_for_js(page, f"(() => {{ const v = document.getElementById('video'); return {condition}; }})()",
                          timeout=PLAY_TIMEOUT_MS)  # fmt: skip
    except (PlaywrightTimeout, TimeoutError):
        state = await page.evaluate(
            "({hls: window.__hlsSeen, t: document.getElementById('video').currentTime,"
            " error: document.getElementById('player-error').textContent})"
        )
        raise AssertionError(f"{what}: {state}, {page.problems}") from None


async def _cap_height(route) -> None:
    body = json.loads(route.request.post_data or "{}")
    body.setdefault("capabilities", {})["max_height"] = MAX_HEIGHT
    await route.continue_(post_data=json.dumps(body))


@pytest.mark.parametrize("method", ["transcode", "direct_stream"])
async def test_hls_js_plays_seeks_and_segments_add_up(method, browser, api_url, media, worker, pool, redis, keys,
                                                      artifacts: Path, tmp_path: Path) -> None:  # fmt: skip
    item_id, viewer = media[method], media["viewer"]
    duration = float(await pool.fetchval("SELECT duration_seconds FROM media_items WHERE id = $1::uuid", item_id))
    page = await signed_in_page(browser, api_url, viewer["name"], viewer["password"], width=1280, height=800,
                                init_script=HLS_HOOK)  # fmt: skip
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        await page.route("**/api/items/*/playback", _cap_height)
        await page.goto(f"/items/{item_id}/play")
        player = page.locator("#player")
        await wait_for_js(page, f"document.getElementById('player').dataset.method === '{method}'")
        sid = await player.get_attribute("data-session")
        assert (await sessions.get(redis, keys, sid)).method == method

        # First frame.
        t0 = time.monotonic()
        await start_playing(page, timeout=PLAY_TIMEOUT_MS / 1000)
        await _until(page, "v.currentTime > 0 && v.videoWidth > 0", "no first frame")
        assert await page.evaluate("window.__hls !== undefined"), "the player did not use hls.js"
        # hls.js took the master playlist from the playback answer: never asked for over the network.
        assert not [u for u in requested if "master.m3u8" in u], requested
        assert [u for u in requested if "/index.m3u8" in u], requested

        first_frame = time.monotonic() - t0
        # Seek to 50%: playback goes on past the seek point.
        t0 = time.monotonic()
        target = duration / 2
        await page.evaluate(f"document.getElementById('video').currentTime = {target}")
        await _until(page, f"!v.seeking && !v.paused && v.currentTime > {target + 1.0}", "no playback after the seek")
        resumed = time.monotonic() - t0
        await page.evaluate("document.getElementById('video').pause()")
        shot = artifacts / f"hls-{method}.png"
        await page.screenshot(path=str(shot))

        seen = await page.evaluate("window.__hlsSeen")
        assert seen["fatal"] == [], seen
        assert await page.locator("#player-error").is_hidden()
        assert not [p for p in page.problems if p.startswith("pageerror")], page.problems
        level_url = await page.evaluate("window.__hls.levels[window.__hls.currentLevel].uri")
        print(f"{method}: played {level_url.split('?')[0]}, fragments {seen['frags']}, "
              f"non-fatal {seen['errors']}, first frame {first_frame:.1f}s, resumed {resumed:.1f}s")  # fmt: skip

        # Every segment of the variant that played, through the api: valid, and all together as long
        # as the item (the session is still open: the page is paused, not gone).
        total = 0.0
        async with httpx.AsyncClient(timeout=60) as client:
            index = await client.get(urljoin(api_url, level_url))
            assert index.status_code == 200, index.text
            segments = playlist_segments(index.text)
            for n, (_, uri) in enumerate(segments):
                path, _ = await get_segment(client, urljoin(urljoin(api_url, level_url), uri), tmp_path / f"{n}.ts")
                streams = probe_segment(path)
                assert set(streams) == {"video", "audio"}, (n, streams)
                total += streams["video"][1]
        print(f"{method}: {len(segments)} segments, {total:.3f}s of {duration:.3f}s")
        assert abs(total - duration) <= 0.01 * duration, (total, duration, len(segments))
        assert worker.proc.poll() is None, worker.log()
    finally:
        await page.context.close()  # pagehide: the player stops its session
