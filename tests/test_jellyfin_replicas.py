# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""Two api replicas behind one Jellyfin app (issue 12): the app logs in through one replica and
plays through the other, as it would behind a load balancer: PlaybackInfo, a direct stream with a
byte range, and the TranscodingUrl's master playlist, variant playlist and first segment (from a
real transcode worker), each fetched with no header at all. Logged out on one replica, the token
and the URLs that carry it are refused by both. Every JSON answer is validated against Jellyfin's
OpenAPI document.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import asyncpg
import httpx
import pytest
from yaffw.sample import SampleLibrary
from yaffw.settings import Settings

from tests import jellyfin_support as jf
from tests._media_rows import insert_item, make_library, make_user
from tests.api_fixtures import http, no_login_limits, replica2  # noqa: F401
from tests.jellyfin_client_support import CHROME_PROFILE, chrome_profile, validate_media_aware
from tests.transcode_support import WorkerProcess, playlist_segments, probe_segment

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def worker(settings: Settings, _scratch: Path) -> Iterator[WorkerProcess]:
    """A real transcode worker for the test."""
    w = WorkerProcess(settings, _scratch / f"jf-replicas-worker-{time.time_ns()}.log")
    try:
        yield w.wait_ready()
    finally:
        w.stop()


async def _fetch_segment(client: httpx.AsyncClient, url: str, budget: float = 90) -> bytes:
    """A segment as a player fetches it: a 503 while the encoder catches up is retried."""
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        r = await client.get(url)
        if r.status_code == 503:
            await asyncio.sleep(min(2.0, float(r.headers.get("retry-after", "1")) / 4))
            continue
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        return r.content
    raise AssertionError(f"{url} not served in {budget}s")


@pytest.mark.usefixtures("no_login_limits")
async def test_login_on_one_replica_play_on_the_other_logout_refused_by_both(
    api_url: str, replica2: str, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary,
    worker: WorkerProcess, http: httpx.AsyncClient, tmp_path: Path,
) -> None:  # fmt: skip
    library = await make_library(clean_db, sample_media.movies, name="Films")
    mp4 = (await insert_item(clean_db, library, sample_media.mp4, name="Big Buck Test")).replace("-", "")
    hevc = (await insert_item(clean_db, library, sample_media.mkv, name="Hevc Sample")).replace("-", "")
    viewer = await make_user(clean_db, settings, libraries=(library,))

    token = await jf.login(http, api_url, viewer["name"], viewer["password"], "replicas-app")
    headers = jf.client_headers("replicas-app", token)
    me = jf.validate(await http.get(f"{replica2}/Users/Me", headers=headers))
    assert me["Name"] == viewer["name"]

    # Direct play on the other replica: PlaybackInfo, then a ranged read of the file.
    body = {"UserId": me["Id"], "DeviceProfile": CHROME_PROFILE, "MaxStreamingBitrate": 120_000_000}
    r = await http.post(f"{replica2}/Items/{mp4}/PlaybackInfo", json=body, headers=headers)
    assert r.status_code == 200, r.text
    info = jf.validate(r)
    source = info["MediaSources"][0]
    assert source["SupportsDirectPlay"] is True
    stream = await http.get(f"{replica2}/Videos/{mp4}/stream", headers={"Range": "bytes=100-1099"},
                            params={"static": "true", "MediaSourceId": source["Id"], "ApiKey": token})  # fmt: skip
    assert stream.status_code == 206, stream.text[:300]
    assert stream.content == sample_media.mp4.read_bytes()[100:1100]
    validate_media_aware(stream)

    # HLS on the other replica, the way a player does it: the TranscodingUrl alone, no headers.
    small = {**body, "DeviceProfile": chrome_profile(max_width=640)}  # a small encode on a busy machine
    r = await http.post(f"{replica2}/Items/{hevc}/PlaybackInfo", json=small, headers=headers)
    assert r.status_code == 200, r.text
    info = jf.validate(r)
    source = info["MediaSources"][0]
    assert source["SupportsTranscoding"] and source.get("TranscodingUrl"), source
    master_url = urljoin(replica2, source["TranscodingUrl"])
    async with httpx.AsyncClient(timeout=60) as bare:
        master = await bare.get(master_url)
        assert master.status_code == 200, master.text
        variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
        index_url = urljoin(master_url, variant)
        index = await bare.get(index_url)
        assert index.status_code == 200, index.text
        _, first = playlist_segments(index.text)[0]
        segment = tmp_path / "0.ts"
        segment.write_bytes(await _fetch_segment(bare, urljoin(index_url, first)))
        assert set(probe_segment(segment)) == {"video", "audio"}

        # The player reports and stops through the first replica; the session ends everywhere.
        play_session = info["PlaySessionId"]
        report = {"ItemId": hevc, "MediaSourceId": source["Id"], "PlaySessionId": play_session,
                  "PositionTicks": 20_000_000, "PlayMethod": "Transcode"}  # fmt: skip
        for path in ("/Sessions/Playing", "/Sessions/Playing/Stopped"):
            r = await http.post(api_url + path, json=report, headers=headers)
            assert r.status_code == 204, (path, r.text)
            jf.validate(r)

        # Logout on the second replica: the token, and URLs carrying it, are refused by both.
        out = await http.post(f"{replica2}/Sessions/Logout", headers=headers)
        assert out.status_code == 204, out.text
        for base in (api_url, replica2):
            r = await http.get(f"{base}/Users/Me", headers=headers)
            assert r.status_code == 401, (base, r.status_code)
            jf.validate(r)
            refused = await bare.get(f"{base}/Videos/{mp4}/stream", params={"static": "true", "ApiKey": token})
            assert refused.status_code == 401, (base, refused.status_code)
            r = await http.post(f"{base}/Items/{mp4}/PlaybackInfo", json=body, headers=headers)
            assert r.status_code == 401, (base, r.status_code)
