"""A film in two parts plays as one (issue 16): two 4-second files made by FFmpeg (the first blue with a
low tone, the second red with a high one) scanned into one item, played through the real api and a
real transcode worker. The worker reads both parts as one input (FFmpeg's concat demuxer): segment
timestamps run on across the boundary, a segment that starts in part 2 (the encoder seeking into
the joined input) shows part 2, and in headless Chromium hls.js plays from the start across the
boundary to the end without the picture standing still for more than 0.5 s.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests._media_rows import make_user
from tests._scan_helpers import scan_new_library
from tests.browser import signed_in_page, start_playing, wait_for_js
from tests.test_hls_browser import HLS_HOOK
from tests.test_playback_decision import CHROMIUM
from tests.transcode_support import WorkerProcess, get_segment, playlist_segments, probe_segment

pytestmark = pytest.mark.timeout(240)

PART_SECONDS = 4
PLAY_TIMEOUT_MS = 90_000
MAX_STALL_MS = 500
# Every 20 ms: how long the picture has stood still while the video was meant to play (not paused,
# not ended, not seeking), after it first moved. The worst such time is the stall.
STALL_HOOK = """
(() => {
  const s = window.__stall = { worst: 0, since: null, last: -1, moved: false, waiting: 0 };
  setInterval(() => {
    const v = document.getElementById("video");
    if (!v) return;
    const now = performance.now();
    if (v.paused || v.ended || v.seeking) { s.since = null; return; }
    if (v.currentTime !== s.last) {
      s.moved = s.moved || s.last >= 0;
      s.last = v.currentTime;
      s.since = now;
      return;
    }
    if (s.moved && s.since !== null) s.worst = Math.max(s.worst, now - s.since);
  }, 20);
  document.addEventListener("waiting", () => { if (s.moved) s.waiting += 1; }, true);
})();
"""


def _part(path: Path, color: str, tone: int) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"color=c={color}:size=160x90:rate=24:d={PART_SECONDS}", "-f", "lavfi", "-i",
         f"sine=f={tone}:d={PART_SECONDS}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-g", "24", "-c:a", "aac", "-shortest", str(path)],
        check=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
async def film(pool, settings, tmp_path_factory) -> dict:
    """The two-part film, scanned into a library of its own, and a viewer allowed to see it."""
    root = tmp_path_factory.mktemp("parts")
    folder = root / "Two Halves (2020)"
    folder.mkdir()
    _part(folder / "Two Halves (2020) - part1.mp4", "blue", 300)
    _part(folder / "Two Halves (2020) - part2.mp4", "red", 900)
    library, result = await scan_new_library(pool, settings, "parts", root)
    assert (result.added, result.failed) == (2, 0)
    row = await pool.fetchrow("SELECT id, duration_seconds FROM media_items WHERE library_id = $1 AND type = 'movie'",
                              library)  # fmt: skip
    return {"id": str(row["id"]), "duration": row["duration_seconds"],
            "viewer": await make_user(pool, settings, libraries=(library,))}  # fmt: skip


@pytest.fixture(scope="module")
def worker(settings, _scratch) -> WorkerProcess:
    w = WorkerProcess(settings, _scratch / f"parts-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


def _colors(segment: Path) -> list[str]:
    """The segment's picture once a second: ``blue``, ``red`` or ``other``."""
    raw = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(segment), "-vf", "fps=1,scale=1:1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True, timeout=60,
    ).stdout  # fmt: skip
    out = []
    for n in range(0, len(raw) - 2, 3):
        r, _, b = raw[n], raw[n + 1], raw[n + 2]
        out.append("blue" if b > 150 and r < 80 else "red" if r > 150 and b < 80 else "other")
    return out


async def test_the_transcode_reads_the_parts_as_one_input(api_url, film, worker, tmp_path) -> None:
    viewer = film["viewer"]
    assert film["duration"] == pytest.approx(2 * PART_SECONDS, abs=0.3)
    async with httpx.AsyncClient(timeout=60) as client:
        r = await client.post(f"{api_url}/api/items/{film['id']}/playback", json={"capabilities": CHROMIUM},
                              headers=viewer["headers"])  # fmt: skip
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["method"] == "transcode" and "2 parts" in body["reason"]
        master = await client.get(urljoin(api_url, body["url"]))
        variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
        variant_url = urljoin(urljoin(api_url, body["url"]), variant)
        index = await client.get(variant_url)
        segments = playlist_segments(index.text)
        assert sum(d for d, _ in segments) == pytest.approx(2 * PART_SECONDS, abs=0.3)
        assert len(segments) >= 2
        # The last segment first: the encoder starts inside part 2 (a seek on the joined input).
        paths: dict[int, Path] = {}
        for n in [len(segments) - 1, *range(len(segments) - 1)]:
            paths[n], _ = await get_segment(client, urljoin(variant_url, segments[n][1]), tmp_path / f"{n}.ts")
        await client.delete(f"{api_url}/api/sessions/{body['session_id']}", headers=viewer["headers"])

    starts = 0.0
    seen: list[str] = []
    for n in range(len(segments)):
        streams = probe_segment(paths[n])
        assert set(streams) == {"video", "audio"}, (n, streams)
        start, length = streams["video"]
        # Timestamps run on: each segment starts where the one before ended, across the parts.
        assert start == pytest.approx(starts, abs=0.15), (n, start, starts)
        starts = start + length
        seen += _colors(paths[n])
    assert starts == pytest.approx(2 * PART_SECONDS, abs=0.2)
    assert _colors(paths[len(segments) - 1])[-1] == "red"  # the seek into part 2 shows part 2
    # Blue for part 1, then red for part 2, nothing in between and nothing lost.
    assert "other" not in seen and seen == sorted(seen, key=lambda c: c == "red"), seen
    assert seen.count("blue") == pytest.approx(PART_SECONDS, abs=1) and seen.count("red") >= PART_SECONDS - 1


@pytest.mark.browser
async def test_hls_js_plays_across_the_boundary_without_stalling(browser, api_url, film, worker, artifacts) -> None:
    viewer = film["viewer"]
    page = await signed_in_page(browser, api_url, viewer["name"], viewer["password"], width=960, height=600,
                                init_script=HLS_HOOK + STALL_HOOK)  # fmt: skip
    try:
        await page.goto(f"/items/{film['id']}/play")
        await wait_for_js(page, "document.getElementById('player').dataset.method === 'transcode'")
        await start_playing(page, timeout=PLAY_TIMEOUT_MS / 1000)
        await wait_for_js(page, "document.getElementById('video').currentTime > 0.5", timeout=PLAY_TIMEOUT_MS)
        assert await page.evaluate("window.__hls !== undefined"), "the player did not use hls.js"
        # Past the boundary (4 s) and on to the end.
        end = 2 * PART_SECONDS - 0.5
        done = f"(() => {{ const v = document.getElementById('video'); return v.ended || v.currentTime > {end}; }})()"
        await wait_for_js(page, done, timeout=PLAY_TIMEOUT_MS)
        stall = await page.evaluate("window.__stall")
        seen = await page.evaluate("window.__hlsSeen")
        await page.screenshot(path=str(artifacts / "parts-playback.png"))
        print(f"two-part film: worst stall {stall['worst']:.0f} ms, waiting events {stall['waiting']}, "
              f"fragments {seen['frags']}, non-fatal {seen['errors']}")  # fmt: skip
        assert seen["fatal"] == [], seen
        assert stall["moved"], stall
        assert stall["worst"] <= MAX_STALL_MS, stall
        assert await page.locator("#player-error").is_hidden()
        assert not [p for p in page.problems if p.startswith("pageerror")], page.problems
    finally:
        await page.context.close()
