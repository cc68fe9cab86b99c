"""Dying services (issue 14): Redis restarted (with its persistence) in the middle of a playback and
of a scan, PostgreSQL restarted in the middle of browsing. The api, the worker and the scan function
reconnect by themselves: no process is restarted, the player recovers within seconds, the scan
finishes, nothing written is lost.

Private servers (``tests.fault_stack``), never the machine's shared ones.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent
from yaffw import events
from yaffw.keys import Keys
from yaffw.local_services import free_port

from tests._media_rows import insert_item, make_library, make_user
from tests._scan_helpers import make_store
from tests.api_seed import bearer, seed
from tests.conftest import ROOT
from tests.fault_stack import FaultStack, env_for, fault_stack, wait_ready
from tests.processes import stop_process
from tests.transcode_support import WorkerProcess, make_long_hevc, playlist_segments

pytestmark = pytest.mark.timeout(180)

CAPS = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 180, "hls": True}
# How long a player may see nothing but waits (503 + Retry-After, refused connections) after a restart.
RECOVERY = 15.0


@pytest.fixture(scope="module")
def stack(settings) -> Iterator[FaultStack]:
    with fault_stack(settings) as s:
        yield s


class Proc:
    """A real process of the stack with its log."""

    def __init__(self, cmd: list[str], env: dict[str, str], log: Path):
        self.log_path = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        stop_process(self.proc, 20)


@pytest.fixture
def api(stack: FaultStack, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    p = Proc([sys.executable, str(ROOT / "functions/api/main.py")],
             env_for(stack.settings.replace(port=port, host="127.0.0.1")), tmp_path / "api.log")  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, p.proc)
    except AssertionError:
        p.stop()
        raise AssertionError(p.log()) from None
    yield url
    assert p.alive(), "the api died:\n" + p.log()
    p.stop()


@pytest.fixture
def worker(stack: FaultStack, tmp_path: Path) -> Iterator[WorkerProcess]:
    w = WorkerProcess(stack.settings, tmp_path / "worker.log").wait_ready()
    yield w
    assert w.proc.poll() is None, "the worker died:\n" + w.log()
    w.stop()


async def _film(stack: FaultStack, sample_media) -> tuple[str, dict]:
    film = make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-long-hevc.mkv")
    conn = await stack.connect()
    try:
        lib = await make_library(conn, film.parent)
        item = await insert_item(_Pool(conn), lib, film, name="Fault Film")
        user = await make_user(conn, stack.settings, libraries=(lib,))
    finally:
        await conn.close()
    return item, user


class _Pool:
    """One connection that looks enough like a pool for the row helpers (acquire + transaction)."""

    def __init__(self, conn):
        self.conn = conn

    def acquire(self):
        conn = self.conn

        class _Ctx:
            async def __aenter__(self):
                return conn

            async def __aexit__(self, *exc):
                return False

        return _Ctx()


class Player:
    """Fetches an HLS session like a player: playlists, then each segment in turn; a 503 with
    Retry-After (or a refused connection) is waited out, anything else is an error. Reports its
    position after each segment."""

    def __init__(self, api: str, user: dict, item: str, pace: float = 0.0):
        self.api, self.user, self.item, self.pace = api, user, item, pace
        self.errors: list[str] = []
        self.waits: list[tuple[float, float]] = []  # (from, to) monotonic spans without a segment
        self.fetched = 0
        self.position = 0.0

    async def play(self, segments: int | None = None, on_segment=None) -> None:
        async with httpx.AsyncClient(timeout=60) as c:
            r = await c.post(f"{self.api}/api/items/{self.item}/playback", json={"capabilities": CAPS},
                             headers=self.user["headers"])  # fmt: skip
            assert r.status_code == 201, r.text
            body = r.json()
            self.sid = body["session_id"]
            master_url = urljoin(self.api, body["url"])
            master = await self._get(c, master_url)
            variant = next(line for line in master.text.splitlines() if "index.m3u8" in line)
            index_url = urljoin(master_url, variant)
            segs = playlist_segments((await self._get(c, index_url)).text)
            for n, (length, uri) in enumerate(segs[:segments]):
                seg = await self._get(c, urljoin(index_url, uri))
                assert seg.headers["content-type"] == "video/mp2t" and len(seg.content) > 1000
                self.fetched += 1
                self.position += length
                await self._get(c, f"{self.api}/api/sessions/{self.sid}/progress", method="POST",
                                json={"position_seconds": round(self.position, 3)})  # fmt: skip
                if on_segment is not None:
                    await on_segment(n)
                await asyncio.sleep(self.pace)

    async def _get(self, c: httpx.AsyncClient, url: str, method: str = "GET", **kw) -> httpx.Response:
        started = time.monotonic()
        while time.monotonic() - started < 90:
            try:
                r = await c.request(method, url, headers=self.user["headers"], **kw)
            except httpx.TransportError as exc:
                self.errors.append(f"{method} {url}: {exc!r}")
                raise AssertionError(self.errors[-1]) from exc
            if r.status_code == 503 and r.headers.get("retry-after"):
                await asyncio.sleep(min(float(r.headers["retry-after"]), 2.0))
                continue
            if r.status_code >= 400:
                self.errors.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
                raise AssertionError(self.errors[-1])
            if time.monotonic() - started > 0.5:
                self.waits.append((started, time.monotonic()))
            return r
        raise AssertionError(f"{url}: no answer but 503 for 90 s")


class Listener:
    """An SSE client of ``/api/notifications`` that stays connected across the restart."""

    def __init__(self, api: str, headers: dict[str, str]):
        self.api, self.headers = api, headers
        self.ready = asyncio.Event()
        self.messages: list[dict] = []
        self._new = asyncio.Event()

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=None) as c, c.stream("GET", self.api + "/api/notifications",
                                                                   headers=self.headers) as r:  # fmt: skip
            assert r.status_code == 200
            async for line in r.aiter_lines():
                if line.startswith("event: ready"):
                    self.ready.set()
                elif line.startswith("data: {") and self.ready.is_set():
                    self.messages.append(json.loads(line[6:]))
                    self._new.set()

    async def first(self, type_: str) -> dict:
        while True:
            for m in self.messages:
                if m.get("type") == type_:
                    return m
            self._new.clear()
            await self._new.wait()


async def test_redis_restart_mid_playback(stack, api, worker, sample_media):
    item, user = await _film(stack, sample_media)
    listener = Listener(api, user["headers"])
    listening = asyncio.create_task(listener.run())
    await asyncio.wait_for(listener.ready.wait(), 20)
    player = Player(api, user, item, pace=0.4)
    restart: list[asyncio.Task] = []

    async def restart_after_first(n: int) -> None:
        if n == 0:  # while the player goes on fetching, as a real one does
            restart.append(asyncio.create_task(asyncio.to_thread(stack.redis.restart, 2.0)))

    await player.play(on_segment=restart_after_first)
    await restart[0]
    assert not player.errors, player.errors
    assert player.fetched == 11  # 40 s: 0.5, 0.5, 1, 2, 2, then six 6 s segments
    longest = max((b - a for a, b in player.waits), default=0.0)
    print(f"\nRedis restart (2 s down) mid-playback: longest wait for an answer {longest:.1f} s")
    assert longest < RECOVERY
    # The replica's notification subscription came back by itself: a change made now reaches the
    # stream that was open across the restart.
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.put(f"{api}/api/items/{item}/userdata", json={"favorite": True}, headers=user["headers"])
        assert r.status_code == 200, r.text
    got = await asyncio.wait_for(listener.first("io.yaffw.userdata.changed"), 15)
    assert got["data"]["item_id"] == item
    listening.cancel()
    # Nothing written is lost: the session, its lease and the saved position survived the restart.
    keys = Keys(stack.settings.redis_prefix)
    import redis as redis_sync

    with redis_sync.Redis.from_url(stack.redis.url, decode_responses=True) as r:
        assert r.exists(keys.session(player.sid)) and r.exists(keys.lease(player.sid))
    conn = await stack.connect()
    try:
        saved = await conn.fetchval("SELECT position_seconds FROM user_item_data WHERE user_id = $1 AND item_id = $2",
                                    user["id"], item)  # fmt: skip
    finally:
        await conn.close()
    assert saved == pytest.approx(min(player.position, 40.02), abs=0.5) or saved == 0  # played to the end
    # Both processes serve again without having been restarted.
    assert httpx.get(api + "/readyz").status_code == 200
    assert httpx.get(worker.url + "/readyz").status_code == 200


@pytest.fixture
def scan_fn(stack: FaultStack, tmp_path: Path) -> Iterator[tuple[str, Proc]]:
    make_store(stack.settings)  # the bucket the scan stores images in
    port = free_port()
    env = env_for(stack.settings.replace(port=port, host="127.0.0.1", scan_concurrency=2))
    p = Proc([sys.executable, "-m", "yaffw.cli", "function", "scan"], env, tmp_path / "scan.log")
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, p.proc, timeout=90)
    except AssertionError:
        p.stop()
        raise AssertionError(p.log()) from None
    yield url, p
    p.stop()


def _scan_request(url: str, library_id: str) -> httpx.Response:
    event = CloudEvent({"type": events.SCAN_REQUESTED, "source": "/tests", "datacontenttype": "application/json"},
                       {"library_id": library_id})  # fmt: skip
    headers, body = to_binary(event)
    return httpx.post(url + "/", headers=headers, content=body, timeout=170)


FILMS = 60


async def test_redis_restart_mid_scan(stack, scan_fn, sample_media, tmp_path):
    url, proc = scan_fn
    root = tmp_path / "films"
    root.mkdir()
    for n in range(FILMS):
        shutil.copyfile(sample_media.mkv, root / f"Film {n:03d} ({1950 + n}).mkv")
    conn = await stack.connect()
    try:
        lib = await make_library(conn, root)
        scan = asyncio.create_task(asyncio.to_thread(_scan_request, url, lib))

        async def count() -> int:
            return await conn.fetchval("SELECT count(*) FROM media_items WHERE library_id = $1", lib)

        deadline = time.monotonic() + 60
        while await count() < 3 and time.monotonic() < deadline and not scan.done():
            await asyncio.sleep(0.05)
        assert not scan.done(), "the scan ended before Redis could be restarted: make it longer"
        await asyncio.to_thread(stack.redis.stop)
        down = await count()
        await asyncio.sleep(2.0)
        await asyncio.to_thread(stack.redis.start)
        assert down < FILMS, "the scan ended before Redis went down: make it longer"
        response = await scan
        assert response.status_code == 200, response.text + proc.log()
        assert await count() == FILMS
        assert await conn.fetchval("SELECT count(*) FROM scan_failures WHERE library_id = $1", lib) == 0
    finally:
        await conn.close()
    keys = Keys(stack.settings.redis_prefix)
    import redis as redis_sync

    with redis_sync.Redis.from_url(stack.redis.url, decode_responses=True) as r:
        assert r.get(keys.scan_lock(lib)) is None  # released
        entries = r.xrange(keys.events)
    completed = [e for _, e in entries if lib in str(e) and events.SCAN_COMPLETED in str(e)]
    assert len(completed) == 1, entries[-5:]
    assert proc.alive()


class Browser:
    """One user browsing in a loop; every answer's time and status recorded, positions saved with
    PUT userdata remembered once acknowledged."""

    def __init__(self, api: str, headers: dict[str, str], items: list[str], own_item: str):
        self.api, self.headers, self.items, self.own_item = api, headers, items, own_item
        self.answers: list[tuple[float, int, str]] = []
        self.saved_position = None

    async def run(self, until: float) -> None:
        async with httpx.AsyncClient(timeout=30, headers=self.headers) as c:
            n = 0
            while time.monotonic() < until:
                n += 1
                paths = ["/api/items?limit=20&offset=" + str(n % 40), "/api/libraries",
                         f"/api/items/{self.items[n % len(self.items)]}", "/api/resume"]  # fmt: skip
                for path in paths:
                    await self._request(c, "GET", path)
                # Below 90% of the fillers' 10 s, which would mark them played (position back to 0).
                position = float(n % 8) + 0.5
                r = await self._request(c, "PUT", f"/api/items/{self.own_item}/userdata",
                                        json={"position_seconds": position})  # fmt: skip
                if r is not None and r.status_code == 200:
                    assert r.json()["position_seconds"] == position
                    self.saved_position = position
                await asyncio.sleep(0.05)

    async def _request(self, c: httpx.AsyncClient, method: str, path: str, **kw) -> httpx.Response | None:
        try:
            r = await c.request(method, self.api + path, **kw)
        except httpx.TransportError as exc:
            self.answers.append((time.monotonic(), 0, f"{method} {path}: {exc!r}"))
            return None
        detail = "" if r.status_code == 200 else f"{method} {path}: {r.status_code} {r.text[:150]}"
        if r.status_code == 503 and not r.headers.get("retry-after"):
            detail += " (no Retry-After)"
        self.answers.append((time.monotonic(), r.status_code, detail))
        return r


async def test_postgres_restart_mid_browsing(stack, api, worker):
    conn = await stack.connect()
    try:
        data = await seed(_Pool(conn))
    finally:
        await conn.close()
    movies = [data.items[k] for k in ("big", "amelie", "zebra", "hevc")]
    fillers = [
        str(r["id"])
        for r in await _fetch(stack, "SELECT id FROM media_items WHERE name LIKE 'Filler%' ORDER BY name LIMIT 10")
    ]
    headers = bearer(stack.settings, data, "alice")
    browsers = [Browser(api, headers, movies, fillers[i]) for i in range(10)]
    start = time.monotonic()
    until = start + 14
    runs = asyncio.gather(*(b.run(until) for b in browsers))
    await asyncio.sleep(2)
    down_at = time.monotonic()
    await asyncio.to_thread(stack.restart_postgres, 2.0)
    up_at = time.monotonic()
    await runs
    answers = sorted(a for b in browsers for a in b.answers)
    bad = [d for _, status, d in answers if status not in (200, 503) or d.endswith("(no Retry-After)")]
    assert not bad, f"{len(bad)} failed requests, first: {bad[:5]}"
    late = [d for t, status, d in answers if status != 200 and t > up_at + RECOVERY / 3]
    assert not late, f"still failing {RECOVERY / 3}s after PostgreSQL came back: {late[:5]}"
    during = [a for a in answers if down_at <= a[0] <= up_at]
    assert during, "no request was answered while PostgreSQL was down"
    after = [a for a in answers if a[0] > up_at + 1]
    assert len(after) > 50 and all(status == 200 for _, status, _ in after[-50:])
    # Every acknowledged position is in the database.
    rows = await _fetch(stack, "SELECT item_id, position_seconds FROM user_item_data WHERE user_id = $1",
                        data.users["alice"])  # fmt: skip
    saved = {str(r["item_id"]): r["position_seconds"] for r in rows}
    for b in browsers:
        assert saved[b.own_item] == b.saved_position
    assert httpx.get(api + "/readyz").status_code == 200
    assert httpx.get(worker.url + "/readyz").status_code == 200


async def _fetch(stack: FaultStack, sql: str, *args) -> list:
    conn = await stack.connect()
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()
