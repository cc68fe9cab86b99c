"""hls.js in headless Chromium, on the real player page, plays each awkward file
(tests/awkward_media.py) from its start to ``ended`` with no hls.js error at all, fatal or not,
through the real api and a real worker. It starts with the variant the master playlist lists first,
the one the session's pre-warmed job encodes.
"""

from __future__ import annotations

import json
import time

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests import awkward_media
from tests._media_rows import insert_item, make_library, make_user
from tests.browser import signed_in_page, start_playing, wait_for_js
from tests.transcode_support import WorkerProcess

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

# Generous: a shared 2-core machine may be busy transcoding for other test runs too.
END_TIMEOUT_MS = 60_000
MAX_HEIGHT = 270

# Before any page script: every Hls instance the player makes reports every error, the level listed
# first in the master playlist (hls.firstLevel) and the level of each fragment it loads.
HLS_HOOK = """
(() => {
  const seen = window.__hlsSeen = { fatal: [], errors: [], frags: [], firstLevel: null, firstUri: null, ended: null };
  // The player ends its session (and hls.js) on "ended": note where the video was at that moment.
  document.addEventListener("ended", (e) => { seen.ended = { t: e.target.currentTime, d: e.target.duration }; },
                            true);
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
        this.on(H.Events.MANIFEST_PARSED, () => {
          seen.firstLevel = this.firstLevel;
          seen.firstUri = this.levels[this.firstLevel].uri.split("?")[0];
        });
        this.on(H.Events.FRAG_LOADED, (_, d) => seen.frags.push([d.frag.level, d.frag.sn]));
        return loadSource.call(this, url);
      };
    },
  });
})();
"""


@pytest.fixture(scope="module")
async def library(pool, settings, sample_media) -> dict:
    folder = sample_media.root.parent / f"{sample_media.root.name}-awkward"
    paths = {a.name: awkward_media.make(folder, a) for a in awkward_media.FILES}
    lib = await make_library(pool, folder, name=f"awkward-browser-{time.time_ns()}")
    items = {name: await insert_item(pool, lib, path, name=name) for name, path in paths.items()}
    return {"items": items, "paths": paths, "viewer": await make_user(pool, settings, libraries=(lib,))}


@pytest.fixture(scope="module")
def worker(settings, _scratch) -> WorkerProcess:
    w = WorkerProcess(settings, _scratch / f"awkward-browser-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


@pytest.mark.parametrize("awkward", awkward_media.FILES, ids=[a.name for a in awkward_media.FILES])
async def test_hls_js_plays_awkward_file_to_the_end_without_errors(awkward, browser, api_url, library,
                                                                    worker) -> None:  # fmt: skip
    item_id, viewer = library["items"][awkward.name], library["viewer"]
    video_seconds = awkward_media.video_seconds(library["paths"][awkward.name])

    async def request_hook(route) -> None:
        # The browser's own capabilities, capped at a small height and MP4 only; the file's audio language.
        body = json.loads(route.request.post_data or "{}")
        body.setdefault("capabilities", {})["max_height"] = MAX_HEIGHT
        body["capabilities"]["containers"] = ["mp4"]  # Matroska files go through HLS too (direct stream)
        if awkward.audio_index is not None:
            body["audio_index"] = awkward.audio_index
        await route.continue_(post_data=json.dumps(body))

    page = await signed_in_page(browser, api_url, viewer["name"], viewer["password"], width=960, height=600,
                                init_script=HLS_HOOK)  # fmt: skip
    try:
        await page.route("**/api/items/*/playback", request_hook)
        await page.goto(f"/items/{item_id}/play")
        await wait_for_js(
            page, "['transcode', 'direct_stream'].includes(document.getElementById('player').dataset.method)"
        )
        method = await page.locator("#player").get_attribute("data-method")
        sid = await page.locator("#player").get_attribute("data-session")
        t0 = time.monotonic()
        await start_playing(page, timeout=END_TIMEOUT_MS / 1000)
        try:
            await wait_for_js(page, "window.__hlsSeen.ended !== null", timeout=END_TIMEOUT_MS)
        except (PlaywrightTimeout, TimeoutError):
            state = await page.evaluate(
                "({hls: window.__hlsSeen, t: document.getElementById('video').currentTime,"
                " d: document.getElementById('video').duration, ready: document.getElementById('video').readyState,"
                " error: document.getElementById('player-error').textContent})"
            )
            raise AssertionError(f"{awkward.name} did not end: {state}, {page.problems}") from None
        played = time.monotonic() - t0
        seen = await page.evaluate("window.__hlsSeen")
        state = seen["ended"]
        log = worker.log()
        runs = log.count(f"session {sid}: encoder for")
        print(
            f"{awkward.name} ({method}): ended at {state['t']:.3f}s of {state['d']:.3f}s (video {video_seconds:.3f}s)"
            f" in {played:.1f}s; first level {seen['firstUri']}, fragments {seen['frags']}, encoder runs {runs}"
        )
        assert seen["fatal"] == [] and seen["errors"] == [], seen
        assert not [p for p in page.problems if p.startswith("pageerror")], page.problems
        assert abs(state["d"] - video_seconds) <= 0.01 * video_seconds, state
        # hls.js started with the variant listed first, which the pre-warmed job was encoding.
        assert seen["frags"] and seen["frags"][0][0] == seen["firstLevel"], seen
        assert f"session {sid}: encoder for {seen['firstUri'].split('/')[-2]} from segment 0 (run 1)" in log, log
        assert worker.proc.poll() is None, log
    finally:
        await page.context.close()  # pagehide: the player stops its session
