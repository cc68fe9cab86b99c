"""Audio tracks and burned-in subtitles on the real player page (issue 13): hls.js in headless
Chromium, the real api and a real worker, the ``multi_track`` film (tests/awkward_media.py:
English 330 Hz and French 550 Hz audio, an embedded PGS rectangle).

- Switching the audio menu to French mid-play keeps playing from where it was (no restart from
  the start, no hls.js error), the segments of the new session carry the French track (its language
  tag and its 550 Hz tone, measured in a fetched segment), and the choice is the default next time.
- Choosing the PGS subtitle (``window.yaffwPlayer.restart({subtitle_index})``, what the subtitle
  menu calls) restarts as a transcode whose frame at the same time shows the rectangle burned in,
  where the subtitle-off frame shows the picture (pixels read from the video drawn to a canvas).
"""

from __future__ import annotations

import array
import asyncio
import itertools
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import awkward_media
from tests._media_rows import insert_item, make_library, make_user
from tests.browser import signed_in_page, start_playing, wait_for_js
from tests.test_tracks_burn import caption_window
from tests.transcode_support import WorkerProcess, ffprobe_json, playlist_segments

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
PGS_INDEX = 4
VIDEO = "document.getElementById('video')"
PLAYER = "document.getElementById('player')"


@pytest.fixture(scope="module")
async def film(pool, settings, sample_media) -> dict:
    folder = sample_media.root.parent / f"{sample_media.root.name}-awkward"
    path = awkward_media.make(folder, next(a for a in awkward_media.FILES if a.name == "multi_track"))
    lib = await make_library(pool, folder, name=f"tracks-browser-{time.time_ns()}")
    return {"item": await insert_item(pool, lib, path, name="Multi Track"), "lib": lib, "path": path}


@pytest.fixture(scope="module")
def worker(settings, _scratch) -> WorkerProcess:
    w = WorkerProcess(settings, _scratch / f"tracks-browser-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


async def _page(browser: Any, api_url: str, user: dict) -> tuple[Any, list[dict]]:
    """A signed-in page whose playback requests ask for HLS at 270p (MP4 only: the Matroska film is
    streamed), and the list the playback answers are collected in."""
    answers: list[dict] = []

    async def hook(route) -> None:
        body = json.loads(route.request.post_data or "{}")
        body.setdefault("capabilities", {}).update(max_height=270, containers=["mp4"])
        response = await route.fetch(post_data=json.dumps(body))
        answers.append(await response.json())
        await route.fulfill(response=response)

    page = await signed_in_page(browser, api_url, user["name"], user["password"], width=960, height=640)
    await page.route("**/api/items/*/playback", hook)
    return page, answers


def _segment_after(api_url: str, answer: dict, t: float, dest: Path) -> Path:
    """Download the first segment of the session's first variant that starts at or after ``t``."""
    master_url = api_url + answer["url"]
    master = httpx.get(master_url, timeout=30).text
    variant = next(line for line in master.splitlines() if line and not line.startswith("#"))
    playlist_url = httpx.URL(master_url).join(variant)
    playlist = httpx.get(playlist_url, timeout=30).text
    start = 0.0
    for duration, uri in playlist_segments(playlist):
        if start >= t - 0.01:
            deadline = time.monotonic() + 60
            while True:
                r = httpx.get(playlist_url.join(uri), timeout=60)
                if r.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert r.status_code == 200, r.text
            dest.write_bytes(r.content)
            return dest
        start += duration
    raise AssertionError(f"no segment after {t} s in {playlist}")


def _tone(segment: Path) -> tuple[str | None, float]:
    """The audio's language tag and frequency (zero crossings of the decoded samples) in a segment."""
    audio = next(s for s in ffprobe_json(segment, "-show_streams")["streams"] if s["codec_type"] == "audio")
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(segment), "-map", "0:a:0", "-ac", "1", "-ar", "48000",
                          "-f", "s16le", "-"], check=True, capture_output=True, timeout=60).stdout  # fmt: skip
    samples = array.array("h", raw)
    crossings = sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))
    return audio.get("tags", {}).get("language"), crossings / 2 / (len(samples) / 48000)


async def test_switching_audio_keeps_playing_carries_the_track_and_is_remembered(
    browser, api_url, pool, settings, film, worker, tmp_path
) -> None:
    user = await make_user(pool, settings, libraries=(film["lib"],))
    page, answers = await _page(browser, api_url, user)
    try:
        await page.goto(f"/items/{film['item']}/play")
        await wait_for_js(page, f"['direct_stream', 'transcode'].includes({PLAYER}.dataset.method)")
        assert await page.locator("#audio-track").input_value() == "1"
        await start_playing(page)
        await wait_for_js(page, f"{VIDEO}.currentTime > 2.0", timeout=60_000)
        first_sid = await page.locator("#player").get_attribute("data-session")
        options = await page.locator("#audio-track option").all_inner_texts()
        assert options == ["English · Stereo · AAC", "French · Stereo · AAC"], options

        # The session playing now carries English (fetched while it is open: the switch ends it).
        before = _tone(_segment_after(api_url, answers[0], 0.0, tmp_path / "before.ts"))

        # Every time the player reports from here on: a restart from the start would pass through 0-2 s.
        # hls.js errors from the switch on (the first session's own start is the awkward-files test's).
        errors_before = len(await page.evaluate("window.yaffwPlayer.hlsErrors"))
        at = await page.evaluate(f"""() => {{
            window.__times = [];
            {VIDEO}.addEventListener('timeupdate', () => window.__times.push({VIDEO}.currentTime));
            return {VIDEO}.currentTime; }}""")
        await page.select_option("#audio-track", "2")
        await wait_for_js(page, f"{PLAYER}.dataset.audioIndex === '2' && {PLAYER}.dataset.session !== '{first_sid}'")
        await wait_for_js(page, f"{VIDEO}.currentTime > {at + 1.5} && !{VIDEO}.paused", timeout=60_000)
        times = await page.evaluate("window.__times")
        errors = await page.evaluate("window.yaffwPlayer.hlsErrors")
        print(f"switched at {at:.2f} s; times after: {[round(t, 2) for t in times[:8]]}...; hls.js errors {errors}")
        assert errors[errors_before:] == [], errors
        assert not [t for t in times if 0.5 < t < at - 1.0], times
        assert not [p for p in page.problems if p.startswith("pageerror")], page.problems

        # The first session played English, the new one French, in its segments from the switch on.
        english, french = answers[0], answers[-1]
        assert (english["audio_index"], french["audio_index"]) == (1, 2)
        after = _tone(_segment_after(api_url, french, at, tmp_path / "after.ts"))
        print(f"before the switch {before}, after {after}")
        assert before[0] == "eng" and abs(before[1] - 330) < 20
        assert after[0] == "fra" and abs(after[1] - 550) < 20

        # Remembered for this user and film: the next visit selects and plays French.
        saved = await pool.fetchval("SELECT audio_stream_index FROM user_item_data WHERE user_id = $1 AND "
                                    "item_id = $2", user["id"], film["item"])  # fmt: skip
        assert saved == 2
        await page.goto(f"/items/{film['item']}")
        await page.goto(f"/items/{film['item']}/play?resume=1")
        await wait_for_js(page, f"{PLAYER}.dataset.audioIndex === '2'")
        assert await page.locator("#audio-track").input_value() == "2"
        assert answers[-1]["audio_index"] == 2
    finally:
        await page.context.close()


CANVAS_LUMA = """(r) => {
    const v = document.getElementById('video');
    const c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0);
    const d = g.getImageData(r.x, r.y, r.w, r.h).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    return {luma: sum / (d.length / 4), t: v.currentTime, w: v.videoWidth, h: v.videoHeight};
}"""


async def _picture_luma(page, area: dict) -> dict:
    """CANVAS_LUMA once the paused video has composited its frame: right after a seek (or a new
    session) Chromium may still draw an empty, all-black picture though readyState says a frame is
    there. The test film is never black, so a luma of exactly 0 means "not drawn yet"."""
    for _ in range(50):
        found = await page.evaluate(CANVAS_LUMA, area)
        if found["luma"] > 0:
            return found
        await asyncio.sleep(0.1)
    return found


async def test_pgs_choice_burns_the_subtitle_into_the_picture(browser, api_url, pool, settings, film, worker,
                                                               artifacts) -> None:  # fmt: skip
    shown, cleared = caption_window(film["path"])
    at = round((shown + cleared) / 2, 2)
    rect = awkward_media.PGS_RECT
    area = {"x": rect.x, "y": rect.y, "w": rect.w, "h": rect.h}
    user = await make_user(pool, settings, libraries=(film["lib"],))
    page, answers = await _page(browser, api_url, user)
    try:
        await page.goto(f"/items/{film['item']}/play")
        await wait_for_js(page, f"['direct_stream', 'transcode'].includes({PLAYER}.dataset.method)")
        await start_playing(page)
        await wait_for_js(page, f"{VIDEO}.currentTime > 0.5", timeout=60_000)
        # Subtitle off, paused at `at`: the picture under the rectangle.
        await page.evaluate(f"() => {{ {VIDEO}.pause(); {VIDEO}.currentTime = {at}; }}")
        await wait_for_js(
            page, f"!{VIDEO}.seeking && {VIDEO}.readyState >= 2 && Math.abs({VIDEO}.currentTime - {at}) < 0.1"
        )
        off = await _picture_luma(page, area)

        # The subtitle menu's call: the same time, the PGS track burned in by a transcode.
        errors_before = len(await page.evaluate("window.yaffwPlayer.hlsErrors"))
        await page.evaluate(f"window.yaffwPlayer.restart({{subtitle_index: {PGS_INDEX}}})")
        await wait_for_js(page, f"{PLAYER}.dataset.burnSubtitle === '{PGS_INDEX}'", timeout=30_000)
        await wait_for_js(page, f"{VIDEO}.readyState >= 2 && !{VIDEO}.seeking && "
                                f"Math.abs({VIDEO}.currentTime - {at}) < 0.5", timeout=60_000)  # fmt: skip
        on = await _picture_luma(page, area)
        await page.locator("#video").screenshot(path=str(artifacts / "tracks-pgs-burned.png"))
        method = await page.locator("#player").get_attribute("data-method")
        errors = await page.evaluate("window.yaffwPlayer.hlsErrors")
        print(f"rectangle luma at {at} s: subtitle off {off}, burned in {on} ({method}); hls.js errors {errors}")
        assert method == "transcode" and "is burned in" in answers[-1]["reason"]
        assert answers[-1]["burn_subtitle"] == PGS_INDEX
        assert (on["w"], on["h"]) == (off["w"], off["h"]) == (480, 270)
        assert off["luma"] < 180 and on["luma"] > 200 and on["luma"] - off["luma"] > 50
        assert errors[errors_before:] == [], errors
    finally:
        await page.context.close()
