"""The api's drain on SIGTERM (``yaffw_api.drain``), on one real api process.

Right after SIGTERM the replica says it is not ready but still serves, with ``Connection: close``;
its SSE stream and Jellyfin socket end cleanly; once the delay is over it stops listening, yet a download already under
way finishes; then it exits, well within the grace. SIGINT (a person at a terminal) skips the delay.
Before the drain, Sanic closed its listener on the signal: ``/readyz`` and every new request were
refused at once. ``tests/test_rolling_update.py`` runs the same drain under load behind a balancer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK
from yaffw.local_services import free_port
from yaffw.settings import Settings

from tests._media_rows import make_library, make_user
from tests.conftest import ROOT, wait_ready
from tests.processes import stop_process

pytestmark = pytest.mark.timeout(90)

DELAY, GRACE = 2, 8
FILE_BYTES = 48 * 1024 * 1024  # more than the socket buffers hold, so the download is in flight


class ApiProcess:
    """A real api replica on a free port."""

    def __init__(self, settings: Settings, log: Path):
        self.url = ""
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
        env.update(settings.replace(port=port, host="127.0.0.1").to_env())
        env["PYTHONUNBUFFERED"] = "1"
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "functions/api/main.py")], env=env, stdout=out,
                                         stderr=subprocess.STDOUT)  # fmt: skip
        self.url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(self.url, self.proc)
        except AssertionError:
            self.proc.kill()
            raise AssertionError(log.read_text()[-3000:]) from None


@pytest.fixture
async def film(pool, settings: Settings, tmp_path: Path) -> AsyncIterator[tuple[str, dict]]:
    """A large file as a movie (direct play does not probe it), and a user who may see it."""
    folder = tmp_path / "media"
    folder.mkdir()
    path = folder / "Big Film.mkv"
    with path.open("wb") as f:
        f.truncate(FILE_BYTES)
    library = await make_library(pool, folder)
    item = str(await pool.fetchval(
        """INSERT INTO media_items (library_id, type, name, sort_name, path, size, container)
           VALUES ($1, 'movie', $2, $2, $3, $4, 'matroska') RETURNING id""",
        library, f"Drain {uuid.uuid4().hex[:6]}", str(path), FILE_BYTES,
    ))  # fmt: skip
    user = await make_user(pool, settings, libraries=(library,))
    yield item, user
    await pool.execute("DELETE FROM libraries WHERE id = $1", library)
    await pool.execute("DELETE FROM users WHERE id = $1", user["id"])


async def test_sigterm_drains_then_exits(settings: Settings, film, tmp_path: Path) -> None:
    item, user = film
    api = ApiProcess(settings.replace(shutdown_delay_seconds=DELAY, shutdown_grace_seconds=GRACE), tmp_path / "api.log")
    try:
        async with (
            httpx.AsyncClient(base_url=api.url, headers=user["headers"], timeout=20) as kept,
            httpx.AsyncClient(base_url=api.url, headers=user["headers"], timeout=20) as streams,
        ):
            # A kept-alive connection, an SSE stream and a download under way.
            first = await kept.get("/api/items?limit=1")
            assert first.status_code == 200 and first.headers["connection"] == "keep-alive"
            sse = await streams.send(streams.build_request("GET", "/api/notifications"), stream=True)
            lines = sse.aiter_lines()
            while not (await anext(lines)).startswith("event: ready"):
                pass
            socket_url = api.url.replace("http://", "ws://", 1) + f"/socket?api_key={user['token']}&deviceId=drain"
            jellyfin = await connect(socket_url, open_timeout=20)
            assert "ForceKeepAlive" in str(await asyncio.wait_for(jellyfin.recv(), 20))
            download = await streams.send(streams.build_request("GET", f"/api/items/{item}/file"), stream=True)
            assert download.status_code == 200
            chunks = download.aiter_raw()
            received = len(await anext(chunks))

            api.proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            await asyncio.sleep(0.3)
            # Not ready: the load balancer stops sending here ...
            async with httpx.AsyncClient(base_url=api.url, timeout=5) as probe:
                ready = await probe.get("/readyz")
            assert ready.status_code == 503 and ready.json() == {"status": "draining"}, ready.text
            # ... but what still comes is served, and told to go elsewhere next time.
            late = await kept.get("/api/items?limit=1")
            assert late.status_code == 200 and late.headers["connection"] == "close"
            # The SSE stream ends cleanly (no cut chunk), in the delay: its client reconnects elsewhere.
            async for _ in lines:
                pass
            assert time.monotonic() - signalled < DELAY
            await sse.aclose()
            # So does a Jellyfin app's socket: a normal close, and the app reconnects.
            with pytest.raises(ConnectionClosedOK):
                await asyncio.wait_for(jellyfin.recv(), DELAY)

            # After the delay the listener is closed ...
            await asyncio.sleep(max(0.0, signalled + DELAY + 1.0 - time.monotonic()))
            with pytest.raises(httpx.ConnectError):
                await httpx.AsyncClient(timeout=2).get(api.url + "/healthz")
            assert api.proc.poll() is None, "exited with a download in flight"
            # ... and the download started before the signal still completes.
            async for chunk in chunks:
                received += len(chunk)
            await download.aclose()
            assert received == FILE_BYTES
            finished = time.monotonic()
        code = await asyncio.to_thread(api.proc.wait, GRACE + 5)
        exited = time.monotonic()
        print(f"\ndrain: download done {finished - signalled:.1f} s after SIGTERM, exited "
              f"{exited - finished:.1f} s later; load {os.getloadavg()}")  # fmt: skip
        assert code == 0, api.log.read_text()[-3000:]
        assert exited - signalled < GRACE + 1
    finally:
        stop_process(api.proc, 5)


@pytest.mark.parametrize(
    "signals", [(signal.SIGINT,), (signal.SIGTERM, signal.SIGTERM)], ids=["sigint", "sigterm-twice"]
)
async def test_sigint_or_a_second_sigterm_skips_the_delay(settings: Settings, tmp_path: Path, signals) -> None:
    api = ApiProcess(settings.replace(shutdown_delay_seconds=60, shutdown_grace_seconds=120), tmp_path / "api.log")
    try:
        signalled = time.monotonic()
        for sig in signals:
            api.proc.send_signal(sig)
            await asyncio.sleep(0.5)
        code = await asyncio.to_thread(api.proc.wait, 30)
        log = api.log.read_text()
        assert code == 0 and time.monotonic() - signalled < 10, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
    finally:
        stop_process(api.proc, 5)
