"""The real ``yaffw function scan`` process, sent CloudEvents over HTTP in binary mode."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent
from yaffw import events
from yaffw.local_services import free_port
from yaffw.settings import Settings

from tests._scan_helpers import items, make_library, make_store
from tests.conftest import wait_ready
from tests.processes import stop_process

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def scan_url(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A scan function process for this run's database, Redis prefix and bucket."""
    make_store(settings)  # the process stores images in the run's bucket; create it first
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.update(settings.replace(port=port, host="127.0.0.1", scan_concurrency=2).to_env())
    log = tmp_path / "scan.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "yaffw.cli", "function", "scan"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=90)
        yield url
    except AssertionError:
        raise AssertionError(log.read_text()[-4000:]) from None
    finally:
        stop_process(proc)


def post(url: str, type_: str, data: dict) -> httpx.Response:
    """POST one event in binary mode (attributes in ce-* headers, data as the JSON body). Not built
    with ``events.build``, which would refuse the invalid ones these tests send."""
    event = CloudEvent({"type": type_, "source": "/tests", "datacontenttype": "application/json"}, data)
    headers, body = to_binary(event)
    assert headers["ce-type"] == type_  # binary mode
    return httpx.post(url + "/", headers=headers, content=body, timeout=240)


async def test_scan_event_over_http_scans_the_library(scan_url, clean_db, sample_media):
    pool = clean_db
    shows = await make_library(pool, "Shows", "shows", [sample_media.shows])

    response = post(scan_url, events.SCAN_REQUESTED, {"library_id": shows})

    assert response.status_code == 200, response.text
    tree = await items(pool, shows)
    assert sorted(r["type"] for r in tree.values()) == ["episode"] * 3 + ["season"] * 2 + ["series"]
    assert await pool.fetchval("SELECT count(*) FROM images i JOIN media_items m ON m.id = i.item_id"
                               " WHERE m.library_id = $1", shows) == 4  # fmt: skip

    # A subtree of it, as another system would ask after adding a file there.
    season = str(sample_media.shows / "Test Show" / "Season 02")
    assert post(scan_url, events.SCAN_REQUESTED, {"library_id": shows, "path": season}).status_code == 200


async def test_bad_scan_events_are_refused_with_json(scan_url, clean_db, sample_media):
    pool = clean_db
    movies = await make_library(pool, "Movies", "movies", [sample_media.movies])

    bad = post(scan_url, events.SCAN_REQUESTED, {"library_id": "not-a-uuid"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_event"
    unknown = post(scan_url, events.SCAN_REQUESTED, {"library_id": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    outside = post(scan_url, events.SCAN_REQUESTED, {"library_id": movies, "path": "/etc"})
    assert outside.status_code == 400 and outside.json()["error"]["code"] == "path_outside_library"
    other = post(scan_url, events.LEASE_TICK, {})
    assert other.status_code == 200  # not ours: acknowledged, ignored
    assert await items(pool, movies) == {}
    assert httpx.get(scan_url + "/healthz", timeout=10).json() == {"status": "ok"}
