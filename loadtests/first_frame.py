"""First frame in Chromium (issue 13): hls.js on a tiny page, through yaffw and from static HLS.

Used by ``bench_hls.py``. One headless Debian Chromium (Playwright); every measurement opens a new
page on the origin it plays from (the api, or the static server), so both sides pay for the same
things: a page whose hls.js is already loaded, then the clock starts and

- **yaffw**: ``POST /api/items/{id}/playback`` → ``hls.loadSource(master)`` → first frame, hls.js
  taking the master playlist from the playback answer as the web player does (``hls_inline_master.js``);
- **static**: ``hls.loadSource(master)`` of the same film, pre-made with the worker's own FFmpeg
  command line (same encoder settings, same segments), served from files by :func:`static_server`.

"First frame" is the first ``requestVideoFrameCallback`` of the ``<video>`` (a frame composited),
with the ``playing`` event beside it. The page also records when hls.js parsed the master, loaded
the media playlist, loaded and buffered the first fragment, so the report can say where time goes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]  # fmt: skip
HLS_JS = ROOT / "functions/api/yaffw_api/static/hls.min.js"
# The web player's loader of the master playlist that comes with the playback answer.
INLINE_MASTER_JS = ROOT / "functions/api/yaffw_api/static/hls_inline_master.js"
PAGE_PATH = "/__bench/first-frame.html"
PAGE_SETTLE_SECONDS = 1.0
HLS_PATH = "/__bench/hls.min.js"

# The page: ``firstFrame(source)`` plays ``source`` (``{url}`` or ``{playback: {url, body, headers}}``)
# and resolves with milliseconds from its start to each step.
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><script src="{HLS_PATH}"></script></head>
<body><video id="v" muted playsinline width="640" height="360"></video>
<script>{INLINE_MASTER_JS.read_text()}</script><script>
window.firstFrame = async function (source) {{
  const video = document.getElementById("v");
  const at = {{}}, errors = [];
  const t0 = performance.now();
  const mark = (name) => {{ if (at[name] === undefined) at[name] = performance.now() - t0; }};
  at.t0_epoch_ms = performance.timeOrigin + t0;
  let url = source.url, master = null;
  if (source.playback) {{
    const r = await fetch(source.playback.url, {{ method: "POST", body: JSON.stringify(source.playback.body),
      headers: Object.assign({{ "Content-Type": "application/json" }}, source.playback.headers) }});
    if (!r.ok) throw new Error("playback request: " + r.status + " " + await r.text());
    const answer = await r.json();
    url = new URL(answer.url, location.href).href;
    master = answer.master_playlist;
    at.sid = answer.session_id;
    mark("playback");
  }}
  // As the web player does (static/player.js): the master playlist of the answer goes to hls.js.
  const hls = new Hls(master ? {{ pLoader: window.yaffwInlineMaster(Hls, url, master) }} : {{}});
  window.__hls = hls;
  hls.on(Hls.Events.ERROR, (_, d) => errors.push((d.fatal ? "FATAL " : "") + d.type + ":" + d.details));
  hls.on(Hls.Events.MANIFEST_PARSED, () => {{
    mark("master");
    // As the web player does (static/player.js steadyStart): the level hls.js starts with is kept, so
    // an early switch does not stop the encoder before it has made (and cached) the first segments.
    if (hls.levels.length > 1) hls.loadLevel = hls.firstLevel;
  }});
  hls.on(Hls.Events.LEVEL_LOADED, (_, d) => {{
    mark("media_playlist");
    if (at.level === undefined) at.level = d.level;
  }});
  hls.on(Hls.Events.FRAG_LOADING, (_, d) => {{ if (d.frag.sn === 0) mark("frag0_request"); }});
  hls.on(Hls.Events.FRAG_LOADED, (_, d) => {{
    if (d.frag.sn !== 0 || at.frag0_loaded !== undefined) return;
    mark("frag0_loaded");
    const s = d.frag.stats;
    at.frag0_first_byte = s.loading.first - t0; at.frag0_level = d.frag.level; at.frag0_bytes = s.total;
  }});
  hls.on(Hls.Events.FRAG_BUFFERED, (_, d) => {{ if (d.frag.sn === 0) mark("frag0_buffered"); }});
  const frame = new Promise((resolve) => video.requestVideoFrameCallback(() => {{ mark("frame"); resolve(); }}));
  video.addEventListener("playing", () => mark("playing"), {{ once: true }});
  hls.loadSource(url);
  video.autoplay = true;
  hls.attachMedia(video);
  const timeout = new Promise((resolve) => setTimeout(resolve, source.timeout_ms || 30000));
  await Promise.race([frame, timeout]);
  if (hls.levels && at.level !== undefined) at.level_name = hls.levels[at.level].height + "p";
  hls.destroy();
  video.removeAttribute("src");
  video.load();
  at.errors = errors;
  return at;
}};
</script></body></html>"""


@contextlib.contextmanager
def static_server(root: Path, port: int) -> Iterator[str]:
    """An HTTP server of the files under ``root`` on 127.0.0.1:``port`` (aiohttp, its own process,
    like the api); yields its URL."""
    code = ("import sys; from aiohttp import web; app = web.Application(); "
            "app.router.add_static('/', sys.argv[1]); "
            "web.run_app(app, host='127.0.0.1', port=int(sys.argv[2]), print=None, access_log=None)")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", code, str(root), str(port)], stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        import httpx

        while True:
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("static server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def make_static(argv: list[str], out: Path, master: str, media: str, variant: str) -> None:
    """Pre-make the film as static HLS under ``out``: FFmpeg with the worker's command line ``argv``
    (its output folder changed) for every segment, and yaffw's own playlists with the URI queries
    (session tokens) taken off; the master lists only the variant made."""
    folder = out / variant
    folder.mkdir(parents=True, exist_ok=True)
    argv = [*argv[:-1], str(folder / Path(argv[-1]).name)]
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    lines = [line.split("?", 1)[0] if line and not line.startswith("#") else line for line in media.splitlines()]
    (folder / "index.m3u8").write_text("\n".join(lines) + "\n")
    head = [line for line in master.splitlines() if not line.startswith("#EXT-X-STREAM-INF") and "m3u8" not in line]
    entries = master.splitlines()
    for i, line in enumerate(entries):
        if line.startswith("#EXT-X-STREAM-INF") and entries[i + 1].startswith(f"{variant}/"):
            head += [line, f"{variant}/index.m3u8"]
    (out / "master.m3u8").write_text("\n".join(head) + "\n")


class Browser:
    """A headless Chromium; :meth:`first_frame` measures one playback on a new page."""

    def __init__(self) -> None:
        self._pw: Any = None
        self._browser: Any = None

    async def __aenter__(self) -> Browser:
        from playwright.async_api import async_playwright

        self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._browser.close()
        await self._pw.stop()

    async def first_frame(self, origin: str, source: dict[str, Any]) -> dict[str, Any]:
        """Milliseconds from the start to each step of playing ``source`` on a page at ``origin``."""
        context = await self._browser.new_context()
        try:
            page = await context.new_page()
            body = HLS_JS.read_bytes()
            await page.route(f"{origin}{PAGE_PATH}", lambda r: r.fulfill(body=PAGE, content_type="text/html"))
            await page.route(f"{origin}{HLS_PATH}",
                             lambda r: r.fulfill(body=body, content_type="text/javascript"))  # fmt: skip
            await page.goto(origin + PAGE_PATH)
            await page.wait_for_function("() => typeof Hls === 'function'")
            # A viewer presses play on a page that has been open a while: Chromium's work of loading
            # it (hls.js compiled, the first paint) is over before the clock starts. On this 2-core
            # machine it otherwise took half the CPU from the encoder in the first 0.5 s.
            await asyncio.sleep(PAGE_SETTLE_SECONDS)
            result: dict[str, Any] = await page.evaluate("(s) => window.firstFrame(s)", source)
            return result
        finally:
            await context.close()


# What the api and the worker log about a session, as steps of its start (their INFO lines).
SERVER_STEPS = (("job queued at segment", "job_queued"), ("job taken at segment", "job_taken"),
                ("encoder for", "ffmpeg_started"), (" made", "segment0_made"))  # fmt: skip


def server_marks(sid: str, logs: list[Path], t0_epoch_ms: float) -> dict[str, float]:
    """Milliseconds from the page's start to each of :data:`SERVER_STEPS` of session ``sid``, read
    from the processes' logs (``%(asctime)s`` to the millisecond, local time, same machine)."""
    out: dict[str, float] = {}
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if sid not in line:
                continue
            for needle, name in SERVER_STEPS:
                if needle in line and name not in out:
                    try:
                        when = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp() * 1000
                    except ValueError:
                        continue
                    out[name] = when - t0_epoch_ms
    return out


def describe(marks: dict[str, Any]) -> str:
    """One line: each step's milliseconds since the start."""
    steps = ("playback", "job_queued", "master", "media_playlist", "job_taken", "frag0_request", "ffmpeg_started",
             "segment0_made", "frag0_first_byte", "frag0_loaded", "frag0_buffered", "playing", "frame")  # fmt: skip
    parts = [f"{s} {marks[s]:.0f}" for s in steps if isinstance(marks.get(s), int | float)]
    extra = f" level {marks.get('level_name', '?')}"
    if marks.get("errors"):
        extra += f" errors {json.dumps(marks['errors'])}"
    return ", ".join(parts) + " ms;" + extra


def load() -> str:
    """The load average, as printed beside figures."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
