"""Rolling update without downtime (issue 14): every api replica and every transcode worker is
replaced, one at a time (SIGTERM, a new process started, waited ready), while three players play
and ten users browse. Zero failed requests, zero player errors, no lost progress.

The stack: a private PostgreSQL and Redis (``tests.fault_stack``), two api replicas and two workers
(real processes), and in front of the replicas :class:`Balancer`, which models a Kubernetes
Service as kube-proxy implements it: each new TCP connection goes round-robin to a replica that is
ready and not terminating; a connection keeps its replica until one side closes it (so requests
already sent to a replica finish there, and a kept-alive connection stays on it). A replica leaves
the rotation when its ``/readyz`` fails, and :data:`PROPAGATION` seconds after it was sent SIGTERM
(the endpoint update reaching every node): until then new connections still reach it.

Of the three players one is hls.js on the real player page in headless Chromium (:class:`PagePlayer`):
no fatal hls.js error, no failed load (not even one hls.js retried), and its video plays on in real
time (hls.js may jump a tiny hole at the start or report a decoder stall on a busy machine). The other two
are HTTP clients (:class:`Player`), because on this 2-core machine three browsers decoding video beside
two api replicas, two workers and three FFmpeg transcodes would measure the machine rather than the
update. They do what hls.js does: master and media playlists, then each segment in order, keeping
:data:`BUFFER_AHEAD` seconds buffered ahead of a playhead that advances in real time; a ``503`` with
``Retry-After`` is waited out (hls.js retries it too), any other failure is a player error. Each
segment's first video timestamp must be where the playlist says (continuity across hand-overs), and
the playhead must never catch up with the buffer (a stall). Positions are reported every
:data:`REPORT_EVERY` seconds (the page every 10 s); at the end PostgreSQL holds at least the last
acknowledged one per player.

Before the drain (``yaffw_api.drain``), Sanic closed its listener on SIGTERM at once: connections
the balancer still sent there were refused and kept-alive ones closed under their next request.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from playwright.async_api import Page
from yaffw.local_services import free_port
from yaffw.settings import Settings

from tests._media_rows import insert_item, make_library, make_user
from tests.api_seed import seed
from tests.browser import signed_in_page, start_playing, wait_for_js
from tests.conftest import ROOT
from tests.fault_stack import FaultStack, env_for, fault_stack
from tests.test_faults import _Pool
from tests.test_hls_browser import HLS_HOOK
from tests.transcode_support import WorkerProcess, make_long_hevc, playlist_segments, probe_segment

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CAPS = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 180, "hls": True}
PROPAGATION = 1.0  # seconds from SIGTERM until the balancer stops opening connections to the replica
PROBE_EVERY = 0.25  # the balancer's readiness probe: period, timeout, failures before not ready
PROBE_TIMEOUT = 2.0
PROBE_FAILURES = 3
BUFFER_AHEAD = 14.0  # seconds a player keeps buffered ahead of its playhead
REPORT_EVERY = 2.0
FILM_SECONDS = 180
STOP_AT = 150.0  # players stop here: below 90 % of the film, which would mark it played (position 0)
PLAYERS = 3
BROWSERS = 10


# -- the load balancer ---------------------------------------------------------------------------


@dataclass
class Backend:
    """One api replica as the balancer sees it."""

    name: str
    port: int
    ready: bool = False
    terminating: bool = False
    connections: int = 0
    failures: int = 0  # readiness probes failed in a row


class Balancer:
    """Round-robin TCP balancer over the replicas that are ready and not terminating."""

    def __init__(self) -> None:
        self.backends: dict[str, Backend] = {}
        self.refused: list[str] = []  # connections that no replica took (the client sees a reset)
        self._turn = itertools.count()
        self._server: asyncio.Server | None = None
        self._prober: asyncio.Task[None] | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.url = ""

    async def start(self) -> Balancer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        self._prober = asyncio.create_task(self._probe_loop())
        return self

    async def stop(self) -> None:
        assert self._server is not None and self._prober is not None
        self._prober.cancel()
        self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(self._prober, *self._pipes, return_exceptions=True)

    def add(self, name: str, port: int) -> None:
        """A new replica: in rotation once its readiness probe passes."""
        self.backends[name] = Backend(name, port)

    def terminating(self, name: str) -> None:
        """The replica was sent SIGTERM: out of rotation after :data:`PROPAGATION` seconds."""

        def mark() -> None:
            self.backends[name].terminating = True

        asyncio.get_running_loop().call_later(PROPAGATION, mark)

    def remove(self, name: str) -> None:
        """The replica's process is gone."""
        self.backends.pop(name, None)

    def in_rotation(self) -> list[Backend]:
        """Replicas that new connections may go to."""
        return [b for b in self.backends.values() if b.ready and not b.terminating]

    async def _probe_loop(self) -> None:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as c:
            while True:
                await asyncio.gather(*(self._probe(c, b) for b in list(self.backends.values())))
                await asyncio.sleep(PROBE_EVERY)

    async def _probe(self, c: httpx.AsyncClient, b: Backend) -> None:
        """Kubernetes' rule: ready after one success, not ready after :data:`PROBE_FAILURES` failures."""
        try:
            ok = (await c.get(f"http://127.0.0.1:{b.port}/readyz")).status_code == 200
        except httpx.HTTPError:
            ok = False
        b.failures = 0 if ok else b.failures + 1
        b.ready = ok or (b.ready and b.failures < PROBE_FAILURES)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            choices = self.in_rotation()
            if not choices:
                self.refused.append("no replica in rotation")
                return
            backend = choices[next(self._turn) % len(choices)]
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend.port)
            except OSError as exc:
                self.refused.append(f"{backend.name}: {exc!r}")
                return
            backend.connections += 1
            pipes = [asyncio.create_task(_pipe(reader, up_writer)), asyncio.create_task(_pipe(up_reader, writer))]
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for p in pipes:
                    p.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
                up_writer.close()
        except asyncio.CancelledError:
            pass  # the balancer stops (the server's callback would log a cancelled task as an error)
        finally:
            writer.close()
            self._pipes.discard(task)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass


# hls.js sizes its buffer in bytes as well as seconds (maxBufferSize, 60 MB): the small test film
# would be buffered whole at once and the page would fetch nothing during the update. Cap it in
# seconds, as a film of a usual bitrate is, so the page fetches segments across the hand-overs.
PAGE_HOOK = HLS_HOOK.replace(
    "window.__hls = this;",
    f"window.__hls = this; this.config.maxBufferLength = this.config.maxMaxBufferLength = {BUFFER_AHEAD};"
    " this.on(H.Events.ERROR, (_, d) => (window.__hlsAt = window.__hlsAt || []).push("
    "[d.details, document.getElementById('video').currentTime, d.frag ? d.frag.sn : null]));",
)
assert PAGE_HOOK != HLS_HOOK


# -- the processes -------------------------------------------------------------------------------


class Api:
    """One api replica (``functions/api/main.py``) with its log."""

    def __init__(self, stack: FaultStack, logs: Path, n: int):
        self.name = f"api-{n}"
        self.port = free_port()
        self.log_path = logs / f"{self.name}.log"
        env = env_for(stack.settings.replace(port=self.port, host="127.0.0.1"))
        with self.log_path.open("w") as out:
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "functions/api/main.py")], env=env, stdout=out,
                                         stderr=subprocess.STDOUT)  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"{self.name} exited:\n{self.log()}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not ready:\n{self.log()}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# -- the clients ---------------------------------------------------------------------------------


@dataclass
class Record:
    """What every client saw."""

    failed: list[str] = field(default_factory=list)
    retried: int = 0  # 503 + Retry-After answers waited out
    requests: int = 0
    started: float = field(default_factory=time.monotonic)

    def fail(self, what: str) -> str:
        """Record a failed request, with when it happened."""
        self.failed.append(f"[{time.monotonic() - self.started:.1f} s] {what}")
        return self.failed[-1]


class Player:
    """An HLS client that plays in real time through the balancer (see the module docstring)."""

    def __init__(self, url: str, user: dict, item: str, record: Record, tmp: Path):
        self.url, self.user, self.item, self.record, self.tmp = url, user, item, record, tmp
        self.errors: list[str] = []
        self.stalled = 0.0
        self.longest = 0.0  # the longest a segment took to come
        self.early = False  # stopped at STOP_AT before the update was over
        self.fetched: list[tuple[Path, float]] = []  # each segment's file and where it should start
        self.segments = 0
        self.acked_position = 0.0
        self.sid = ""

    async def play(self, stop: asyncio.Event) -> None:
        try:
            await self._play(stop)
        except _PlayerError as exc:
            self.errors.append(str(exc))

    async def _play(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30, headers=self.user["headers"]) as c:
            body = (await self._get(c, f"{self.url}/api/items/{self.item}/playback", "POST",
                                    json={"capabilities": CAPS})).json()  # fmt: skip
            self.sid = body["session_id"]
            master_url = urljoin(self.url, body["url"])
            master = (await self._get(c, master_url)).text
            index_url = urljoin(master_url, next(line for line in master.splitlines() if "index.m3u8" in line))
            segments = playlist_segments((await self._get(c, index_url)).text)
            buffered = 0.0  # seconds of media fetched
            clock: float | None = None  # when the playhead started moving
            last_report = 0.0
            for length, uri in segments:
                if stop.is_set() or (clock is not None and self._playhead(clock, buffered) >= STOP_AT):
                    self.early = not stop.is_set()
                    return
                while clock is not None and buffered - self._playhead(clock, buffered) > BUFFER_AHEAD:
                    if stop.is_set() or self._playhead(clock, buffered) >= STOP_AT:
                        self.early = not stop.is_set()
                        return
                    if time.monotonic() - last_report >= REPORT_EVERY:
                        last_report = time.monotonic()
                        await self._report(c, self._playhead(clock, buffered))
                    await asyncio.sleep(0.2)
                asked = time.monotonic()
                seg = await self._get(c, urljoin(index_url, uri))
                self.longest = max(self.longest, time.monotonic() - asked)
                if clock is not None:
                    self._playhead(clock, buffered)  # account for a stall while it was fetched
                # Probed after the run (check_continuity): ffprobe on a busy machine would slow the player.
                path = self.tmp / f"{self.sid}-{self.segments}.ts"
                path.write_bytes(seg.content)
                self.fetched.append((path, buffered))
                self.segments += 1
                buffered += length
                clock = clock if clock is not None else time.monotonic()
            raise _PlayerError("the film ended before the update did: make it longer")

    def check_continuity(self) -> None:
        """Each segment's first video timestamp is where the playlist puts it (none skipped, none
        repeated, none shifted across a hand-over). :raises AssertionError: naming the segment."""
        for n, (path, expected) in enumerate(self.fetched):
            start = probe_segment(path)["video"][0]
            assert abs(start - expected) < 0.25, f"{self.sid} segment {n} starts at {start:.2f} s, not {expected:.2f}"

    def _playhead(self, clock: float, buffered: float) -> float:
        """Where playback is; time spent with nothing buffered counts as stalled."""
        head = time.monotonic() - clock - self.stalled
        if head > buffered:
            self.stalled += head - buffered
            head = buffered
        return head

    async def _report(self, c: httpx.AsyncClient, position: float) -> None:
        position = round(position, 3)
        await self._get(c, f"{self.url}/api/sessions/{self.sid}/progress", "POST",
                        json={"position_seconds": position})  # fmt: skip
        self.acked_position = position

    async def _get(self, c: httpx.AsyncClient, url: str, method: str = "GET", **kw: object) -> httpx.Response:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            self.record.requests += 1
            try:
                r = await c.request(method, url, **kw)  # type: ignore[arg-type]
            except httpx.TransportError as exc:
                raise _PlayerError(self.record.fail(f"player {method} {url}: {exc!r}")) from exc
            if r.status_code == 503 and r.headers.get("retry-after"):
                self.record.retried += 1
                await asyncio.sleep(min(float(r.headers["retry-after"]), 1.0))
                continue
            if r.status_code >= 300:
                raise _PlayerError(self.record.fail(f"player {method} {url}: {r.status_code} {r.text[:200]}"))
            return r
        raise _PlayerError(f"{method} {url}: only 503 for 30 s")


class _PlayerError(Exception):
    pass


class PagePlayer:
    """hls.js on the real player page in headless Chromium, through the balancer: every answer the
    page gets is checked like the other clients' (a segment's ``503`` + ``Retry-After`` is hls.js's
    to retry), hls.js's errors are collected, and the last progress report acknowledged is kept."""

    def __init__(self, page: Page, record: Record):
        self.page, self.record = page, record
        self.acked_position = 0.0
        page.on("response", self._response)
        page.on("requestfailed", self._failed)

    async def start(self, item: str) -> None:
        await self.page.route("**/api/items/*/playback", _cap_height)
        await self.page.goto(f"/items/{item}/play")
        await start_playing(self.page, timeout=60)
        await wait_for_js(self.page, "document.getElementById('video').currentTime > 1", 60_000)

    async def position(self) -> float:
        return float(await self.page.evaluate("document.getElementById('video').currentTime"))

    async def state(self) -> dict:
        """hls.js's errors (fatal and not), the video element's error, the player's error text."""
        seen = await self.page.evaluate(
            "({hls: window.__hlsSeen, at: window.__hlsAt || [], video: document.getElementById('video').error,"
            " shown: !document.getElementById('player-error').hidden})"
        )
        return {**seen, "problems": list(self.page.problems)}

    async def close(self) -> None:
        """Pause and leave the page (the player saves its position as it goes)."""
        await self.page.evaluate("document.getElementById('video').pause()")
        self.page.remove_listener("response", self._response)
        self.page.remove_listener("requestfailed", self._failed)
        await self.page.context.close()

    def _response(self, response) -> None:  # type: ignore[no-untyped-def]
        self.record.requests += 1
        if response.status == 503 and response.headers.get("retry-after"):
            self.record.retried += 1
        elif response.status >= 400:
            self.record.fail(f"chromium {response.request.method} {response.url}: {response.status}")
        elif response.url.endswith("/progress") and response.status == 200:
            self.acked_position = json.loads(response.request.post_data or "{}")["position_seconds"]

    def _failed(self, request) -> None:  # type: ignore[no-untyped-def]
        if request.failure != "net::ERR_ABORTED":  # the page's own cancellation, not the server's doing
            self.record.fail(f"chromium {request.method} {request.url}: {request.failure}")


async def _cap_height(route) -> None:  # type: ignore[no-untyped-def]
    """The player's capabilities with a small screen: a small ladder a loaded machine encodes fast."""
    body = json.loads(route.request.post_data or "{}")
    body.setdefault("capabilities", {})["max_height"] = 180
    await route.continue_(post_data=json.dumps(body))


class Browser:
    """A user browsing in a loop: item lists, search, item pages, resume, position reports."""

    def __init__(self, url: str, user: dict, items: list[str], own_item: str, record: Record):
        self.url, self.user, self.items, self.own_item, self.record = url, user, items, own_item, record
        self.saved_position: float | None = None

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=30, headers=self.user["headers"]) as c:
            for n in itertools.count():
                if stop.is_set():
                    return
                for path in (f"/api/items?limit=20&offset={n % 40}", "/api/items?q=film&limit=10",
                             f"/api/items/{self.items[n % len(self.items)]}", "/api/resume"):  # fmt: skip
                    await self._request(c, "GET", path)
                position = float(n % 8) + 0.5  # below 90 % of the fillers' 10 s
                r = await self._request(c, "PUT", f"/api/items/{self.own_item}/userdata",
                                        json={"position_seconds": position})  # fmt: skip
                if r is not None:
                    self.saved_position = position
                await asyncio.sleep(0.25)

    async def _request(self, c: httpx.AsyncClient, method: str, path: str, **kw: object) -> httpx.Response | None:
        self.record.requests += 1
        try:
            r = await c.request(method, self.url + path, **kw)  # type: ignore[arg-type]
        except httpx.TransportError as exc:
            self.record.fail(f"browser {method} {path}: {exc!r}")
            return None
        if r.status_code != 200:
            self.record.fail(f"browser {method} {path}: {r.status_code} {r.text[:200]}")
            return None
        return r


class Listener:
    """An SSE client of ``/api/notifications`` that, like ``EventSource``, reconnects the stream
    ``retry`` milliseconds after it ends; a stream cut in the middle (a truncated chunk, a reset)
    or a failed reconnection is a failure."""

    def __init__(self, url: str, user: dict, record: Record):
        self.url, self.user, self.record = url, user, record
        self.streams = 0

    async def run(self, stop: asyncio.Event) -> None:
        retry = 3.0
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=None), headers=self.user["headers"]) as c:
            while not stop.is_set():
                self.record.requests += 1
                try:
                    async with c.stream("GET", self.url + "/api/notifications") as r:
                        if r.status_code != 200:
                            self.record.fail(f"SSE: {r.status_code} {(await r.aread())[:200]!r}")
                            return  # EventSource gives up on anything but 200
                        self.streams += 1
                        async for line in r.aiter_lines():
                            if line.startswith("retry:"):
                                retry = int(line[6:]) / 1000
                except httpx.TransportError as exc:
                    self.record.fail(f"SSE stream cut: {exc!r}")
                await asyncio.sleep(retry)


async def _exit_of(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    """``proc``'s exit status and how long it took to exit from now (at most 60 s)."""
    started = time.monotonic()
    code = await asyncio.to_thread(proc.wait, 60)
    return code, time.monotonic() - started


# -- the test ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(settings) -> Iterator[FaultStack]:
    # The product's drain delay: the balancer below needs it (the suite's settings turn it off).
    with fault_stack(settings.replace(shutdown_delay_seconds=Settings().shutdown_delay_seconds)) as s:
        yield s


async def _rows(stack: FaultStack, sample_media) -> tuple[str, list[dict], list[dict], list[str], list[str]]:
    """The film, 3 player users, 10 browsing users, items to visit, one filler per browser."""
    film = make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-rolling-hevc-{FILM_SECONDS}.mkv",
                          seconds=FILM_SECONDS, size="320x180")  # fmt: skip
    conn = await stack.connect()
    try:
        data = await seed(_Pool(conn))
        film_lib = await make_library(conn, film.parent)
        item = await insert_item(_Pool(conn), film_lib, film, name="Rolling Film")
        libs = (data.libraries["Movies"], data.libraries["Shows"], film_lib)
        users = [await make_user(conn, stack.settings, libraries=libs) for _ in range(PLAYERS + BROWSERS)]
        fillers = [str(r["id"]) for r in await conn.fetch(
            "SELECT id FROM media_items WHERE name LIKE 'Filler%' ORDER BY name LIMIT $1", BROWSERS)]  # fmt: skip
    finally:
        await conn.close()
    visits = [data.items[k] for k in ("big", "amelie", "zebra", "show")] + [item]
    return item, users[:PLAYERS], users[PLAYERS:], visits, fillers


async def test_rolling_update_under_load(stack: FaultStack, sample_media, browser, tmp_path: Path) -> None:
    item, player_users, browser_users, visits, fillers = await _rows(stack, sample_media)
    logs = tmp_path / "logs"
    logs.mkdir()
    numbers = itertools.count()
    lb = await Balancer().start()
    apis: list[Api] = []
    workers: list[WorkerProcess] = []
    stop = asyncio.Event()
    try:
        for _ in range(2):
            api = Api(stack, logs, next(numbers))
            apis.append(api)
            lb.add(api.name, api.port)
            # Two sessions each at most: the three players' sessions are spread over both workers, so
            # each worker replaced below has a session to hand over.
            workers.append(WorkerProcess(stack.settings, logs / f"worker-{next(numbers)}.log", worker_sessions=2))
        for api in apis:
            await asyncio.to_thread(api.wait_ready)
        for w in workers:
            await asyncio.to_thread(w.wait_ready)
        deadline = time.monotonic() + 20
        while len(lb.in_rotation()) < 2:
            assert time.monotonic() < deadline, f"the balancer sees {lb.backends}"
            await asyncio.sleep(0.05)

        record = Record()
        with tempfile.TemporaryDirectory(dir=tmp_path) as seg_dir:
            # One player is hls.js on the player page, the others HTTP clients (module docstring).
            page = await signed_in_page(browser, lb.url, player_users[0]["name"], player_users[0]["password"],
                                        width=640, height=400, init_script=PAGE_HOOK)  # fmt: skip
            page_player = PagePlayer(page, record)
            await page_player.start(item)
            players = [Player(lb.url, u, item, record, Path(seg_dir)) for u in player_users[1:]]
            browsers = [Browser(lb.url, u, visits, fillers[i], record) for i, u in enumerate(browser_users)]
            listener = Listener(lb.url, browser_users[0], record)
            load = [asyncio.create_task(p.play(stop)) for p in players]
            load += [asyncio.create_task(b.run(stop)) for b in browsers]
            listening = asyncio.create_task(listener.run(stop))
            # Every player has started and buffered before the first replacement.
            deadline = time.monotonic() + 60
            while min(p.segments for p in players) < 3 and time.monotonic() < deadline:
                assert not any(p.errors for p in players), [p.errors for p in players]
                await asyncio.sleep(0.2)

            timings: list[str] = []
            page_from, page_since = await page_player.position(), time.monotonic()
            # Stalls count from here: a start-up stall (the first segments of three sessions on a
            # busy machine) is not the update's doing.
            stalled_before = [p.stalled for p in players]
            for old in list(apis):  # one replica at a time
                started = time.monotonic()
                old.proc.send_signal(signal.SIGTERM)
                lb.terminating(old.name)
                exited = asyncio.create_task(_exit_of(old.proc))
                new = Api(stack, logs, next(numbers))
                apis.append(new)
                lb.add(new.name, new.port)
                await asyncio.to_thread(new.wait_ready)
                code, took = await exited
                lb.remove(old.name)
                apis.remove(old)
                timings.append(
                    f"{old.name} (SIGTERM at {started - record.started:.1f} s) exited {code} in {took:.1f} s"
                )
                assert code == 0, f"{old.name} exited {code}:\n{old.log()}"
                assert took < stack.settings.shutdown_grace_seconds + 5, timings[-1]
            for old_worker in list(workers):
                started = time.monotonic()
                old_worker.proc.send_signal(signal.SIGTERM)
                exited = asyncio.create_task(_exit_of(old_worker.proc))
                # Room for what the old one hands over (a Deployment's maxSurge gives it in a cluster).
                new_worker = WorkerProcess(stack.settings, logs / f"worker-{next(numbers)}.log", worker_sessions=3)
                workers.append(new_worker)
                await asyncio.to_thread(new_worker.wait_ready)
                code, took = await exited
                workers.remove(old_worker)
                old_worker.stop()  # closes its log
                timings.append(f"worker (SIGTERM at {started - record.started:.1f} s) exited {code} in {took:.1f} s")
                assert code == 0, f"worker exited {code}:\n{old_worker.log()}"
                assert "requeued at segment" in old_worker.log(), "the worker had no session to hand over"
            # The new processes serve a while, then everyone stops.
            await asyncio.sleep(4)
            page_played, page_wall = await page_player.position() - page_from, time.monotonic() - page_since
            page_state = await page_player.state()
            await page_player.close()
            stop.set()
            await asyncio.wait_for(asyncio.gather(*load), 60)
            listening.cancel()  # it may be waiting for a ping
            await asyncio.gather(listening, return_exceptions=True)
            for p in players:
                await asyncio.to_thread(p.check_continuity)

        stalls = [round(p.stalled - before, 1) for p, before in zip(players, stalled_before, strict=True)]
        print(f"\nrolling update: {'; '.join(timings)}; {record.requests} requests, {record.retried} waited "
              f"out (503 + Retry-After), stalls before/during the update {[round(b, 1) for b in stalled_before]}/"
              f"{stalls} s, longest segment "
              f"fetch {max(p.longest for p in players):.1f} s, segments "
              f"{[p.segments for p in players]}, SSE streams {listener.streams}, load {os.getloadavg()}")  # fmt: skip
        print(f"hls.js played {page_played:.1f} s of {page_wall:.1f} s from {page_from:.1f} s, errors at "
              f"{page_state['at']}, fragments {page_state['hls']['frags']}")  # fmt: skip
        print("\n".join(record.failed[:20] + lb.refused[:10]))
        assert not lb.refused, f"{len(lb.refused)} connections no replica took: {lb.refused[:5]}"
        assert not record.failed, f"{len(record.failed)} failed requests, first: {record.failed[:5]}"
        assert not [p.errors for p in players if p.errors], [p.errors for p in players]
        assert all(stall < 1.0 for stall in stalls), f"players stalled {stalls} s during the update"
        assert not any(p.early for p in players), "a player stopped before the update was over: make the film longer"
        assert listener.streams >= 2, "the SSE stream was never ended and reopened"
        # No fatal error, and no failed load even if retried: media hiccups (a stall of the decoder
        # on a busy machine, a hole jumped at the very start) are hls.js's own to recover from.
        assert page_state["hls"]["fatal"] == [], page_state
        assert not [e for e in page_state["hls"]["errors"] if not e.startswith("mediaError:")], page_state
        assert page_state["video"] is None and not page_state["shown"], page_state
        assert not page_state["problems"], page_state
        assert page_played > page_wall - 2.0, f"hls.js played {page_played:.1f} s in {page_wall:.1f} s"
        # No lost progress: what PostgreSQL holds is at least the last position each player had acknowledged.
        conn = await stack.connect()
        try:
            for p in players:
                saved = await conn.fetchval(
                    "SELECT position_seconds FROM user_item_data WHERE user_id = $1 AND item_id = $2",
                    p.user["id"], item,
                )  # fmt: skip
                assert p.acked_position > 10 and saved is not None and saved >= p.acked_position - 0.01, (
                    p.acked_position, saved)  # fmt: skip
            saved = await conn.fetchval(
                "SELECT position_seconds FROM user_item_data WHERE user_id = $1 AND item_id = $2",
                player_users[0]["id"], item,
            )  # fmt: skip
            assert page_player.acked_position > 10 and saved >= page_player.acked_position - 0.01, (
                page_player.acked_position, saved)  # fmt: skip
            for b in browsers:
                saved = await conn.fetchval(
                    "SELECT position_seconds FROM user_item_data WHERE user_id = $1 AND item_id = $2",
                    b.user["id"], b.own_item,
                )  # fmt: skip
                assert saved == b.saved_position
        finally:
            await conn.close()
        assert all(a.proc.poll() is None for a in apis) and all(w.proc.poll() is None for w in workers)
    finally:
        stop.set()
        await lb.stop()
        for api in apis:
            api.kill()
        for w in workers:
            w.stop()
