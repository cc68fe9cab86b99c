"""The segment proxy under a frozen worker and an exhausted connection pool (issue 14): a real api
process with one connection to workers (``YAFFW_WORKER_CONNECTIONS=1``) and a session routed to a
black-holed worker address (the kernel accepts the connection, nothing ever answers). Every segment
request gets ``503`` + ``Retry-After`` within the proxy's wait, never a 500 or a hang."""

from __future__ import annotations

import asyncio
import socket
import time
from urllib.parse import urljoin

import httpx
import pytest

from tests._media_rows import insert_item, make_library, make_user
from tests.api_procs import api_process
from tests.test_hls_api import CAPS

pytestmark = pytest.mark.timeout(120)


async def test_frozen_worker_and_full_pool_get_503(pool, settings, sample_media, redis, keys, tmp_path) -> None:
    lib = await make_library(pool, sample_media.movies, name=f"busy-{time.time_ns()}")
    item = await insert_item(pool, lib, sample_media.mp4, name="Busy Test")
    user = await make_user(pool, settings, libraries=(lib,))
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(16)  # never accepted: connections complete in the backlog and stay silent
    try:
        with api_process(settings.replace(worker_connections=1), tmp_path / "api.log") as url:
            async with httpx.AsyncClient(timeout=60) as http:
                r = await http.post(f"{url}/api/items/{item}/playback", json={"capabilities": CAPS},
                                    headers=user["headers"])  # fmt: skip
                assert r.status_code == 201, r.text
                body = r.json()
                assert body["method"] == "transcode"
                await redis.set(keys.session_map(body["session_id"]), f"127.0.0.1:{hole.getsockname()[1]}")
                master_url = urljoin(url, body["url"])
                master = await http.get(master_url)
                variant = next(line for line in master.text.splitlines() if "index.m3u8" in line and "URI" not in line)
                index_url = urljoin(master_url, variant)
                index = await http.get(index_url)
                seg = next(line for line in index.text.splitlines() if line and not line.startswith("#"))
                seg_url = urljoin(index_url, seg)
                started = time.monotonic()
                answers = await asyncio.gather(*(http.get(seg_url) for _ in range(3)))
                elapsed = time.monotonic() - started
                for answer in answers:
                    assert answer.status_code == 503, answer.text
                    assert answer.headers["retry-after"] == "2"
                    assert answer.json()["error"]["code"] == "workers_busy"
                    assert "Traceback" not in answer.text
                assert elapsed < 12, elapsed  # the proxy's 9 s wait, not the worker timeouts
                await http.delete(f"{url}/api/sessions/{body['session_id']}", headers=user["headers"])
    finally:
        hole.close()
