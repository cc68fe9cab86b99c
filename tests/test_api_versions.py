"""A film with two versions and a film in two parts through the api (issue 16), against the real api
process, PostgreSQL, Redis and a scanned library of real FFmpeg files: one film item each in the
listing; ``POST /api/items/{id}/playback`` picks the version the browser plays directly, plays the
one asked for (``source``) and refuses an unknown one; a film in parts never direct-plays; the
Jellyfin surface lists both versions as ``MediaSources``, ``MediaSourceId`` chooses, and the chosen
version's file is served as the film's stream.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests._media_rows import make_user
from tests._scan_helpers import items, scan_new_library
from tests.jellyfin_support import client_headers, validate
from tests.test_jellyfin_device_profile import CHROME
from tests.test_playback_decision import CHROMIUM

pytestmark = pytest.mark.timeout(240)


def _part(path: Path, seconds: int, tone: int) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc=size=160x90:rate=24:d={seconds}", "-f", "lavfi", "-i", f"sine=f={tone}:d={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "24", "-c:a", "aac", "-shortest", str(path)],
        check=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
async def films(pool, settings, sample_media, tmp_path_factory):
    root = tmp_path_factory.mktemp("films")
    folder = root / "Pick (2011)"
    folder.mkdir()
    # The main version (named like the film) is HEVC in MKV; the other one plays in any browser.
    shutil.copy(sample_media.mkv, folder / "Pick (2011).mkv")
    shutil.copy(sample_media.mp4, folder / "Pick (2011) - 1080p.mp4")
    parted = root / "Halves (2012)"
    parted.mkdir()
    _part(parted / "Halves (2012) - cd1.mp4", 2, 300)
    _part(parted / "Halves (2012) - cd2.mp4", 2, 600)
    library, result = await scan_new_library(pool, settings, "versions", root)
    assert (result.added, result.failed) == (4, 0)
    rows = await items(pool, library)
    owner = await make_user(pool, settings, libraries=(library,))
    owner["jf"] = client_headers("versions-owner", owner["token"])
    return {
        "library": library,
        "film": str(rows[str(folder / "Pick (2011).mkv")]["id"]),
        "hd": str(rows[str(folder / "Pick (2011) - 1080p.mp4")]["id"]),
        "halves": str(rows[str(parted / "Halves (2012) - cd1.mp4")]["id"]),
        "film_seconds": rows[str(folder / "Pick (2011).mkv")]["duration_seconds"],
        "hd_seconds": rows[str(folder / "Pick (2011) - 1080p.mp4")]["duration_seconds"],
        "mp4_bytes": sample_media.mp4.read_bytes(),
        "owner": owner,
    }


def _play(api_url: str, user: dict, item_id: str, **body) -> httpx.Response:
    return httpx.post(f"{api_url}/api/items/{item_id}/playback", json=body, headers=user["headers"], timeout=30)


def _stop(api_url: str, user: dict, sid: str) -> None:
    httpx.delete(f"{api_url}/api/sessions/{sid}", headers=user["headers"], timeout=30)


def test_listing_shows_one_item_per_film(api_url, films) -> None:
    r = httpx.get(f"{api_url}/api/items", params={"library_id": films["library"], "limit": 50},
                  headers=films["owner"]["headers"], timeout=30)  # fmt: skip
    assert r.status_code == 200, r.text
    listed = {i["id"]: i for i in r.json()["items"]}
    assert set(listed) == {films["film"], films["halves"]}
    assert listed[films["halves"]]["duration_seconds"] == pytest.approx(4.0, abs=0.3)


def test_playback_picks_the_version_the_browser_plays(api_url, films) -> None:
    owner = films["owner"]
    r = _play(api_url, owner, films["film"], capabilities=CHROMIUM)
    assert r.status_code == 201, r.text
    body = r.json()
    # The HEVC main version would need a transcode; the 1080p MP4 plays as it is.
    assert (body["method"], body["source_id"]) == ("direct_play", films["hd"])
    assert body["url"].startswith(f"/api/items/{films['hd']}/file?token=")
    assert [(s["id"], s["label"]) for s in body["sources"]] == [(films["film"], "720p"), (films["hd"], "1080p")]
    served = httpx.get(f"{api_url}{body['url']}", timeout=30)
    assert served.status_code == 200 and served.content == films["mp4_bytes"]
    # Progress counts against the version played: past 90% of the shorter main version is not the
    # end of this longer one. The watch state is the film's.
    assert films["hd_seconds"] > films["film_seconds"]
    at = round(0.95 * films["film_seconds"], 1)
    r = httpx.post(f"{api_url}/api/sessions/{body['session_id']}/progress", json={"position_seconds": at},
                   headers=owner["headers"], timeout=30)  # fmt: skip
    assert r.status_code in (200, 204), r.text
    state = httpx.get(f"{api_url}/api/items/{films['film']}", headers=owner["headers"], timeout=30).json()
    assert (state["user_data"]["played"], state["user_data"]["position_seconds"]) == (False, at)
    _stop(api_url, owner, body["session_id"])

    # The user picks the main version: it is played (through HLS, the browser has no HEVC).
    r = _play(api_url, owner, films["film"], capabilities=CHROMIUM, source=films["film"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["method"], body["source_id"]) == ("transcode", films["film"])
    master = httpx.get(f"{api_url}{body['url']}", timeout=30)
    assert master.status_code == 200 and "#EXTM3U" in master.text
    _stop(api_url, owner, body["session_id"])

    # The other version asked for where it cannot play as it is: the HLS session reads that file
    # (its own length), not the film's main one.
    no_mp4 = {**CHROMIUM, "containers": ["webm"]}
    r = _play(api_url, owner, films["film"], capabilities=no_mp4, source=films["hd"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["method"], body["source_id"]) == ("direct_stream", films["hd"])
    master_url = f"{api_url}{body['url']}"
    master = httpx.get(master_url, timeout=30)
    variant = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
    index = httpx.get(urljoin(master_url, variant), timeout=30)
    assert index.status_code == 200, index.text
    listed = sum(float(line[8:].rstrip(",")) for line in index.text.splitlines() if line.startswith("#EXTINF:"))
    assert listed == pytest.approx(films["hd_seconds"], abs=0.5)
    assert abs(films["hd_seconds"] - films["film_seconds"]) > 2  # the two versions differ in length
    _stop(api_url, owner, body["session_id"])

    for bad in (str(uuid.uuid4()), "nope", 12):
        r = _play(api_url, owner, films["film"], capabilities=CHROMIUM, source=bad)
        assert r.status_code == 400, r.text
        assert "version" in r.json()["error"]["message"] or "source" in r.json()["error"]["message"]


def test_film_in_parts_never_direct_plays(api_url, films) -> None:
    owner = films["owner"]
    r = _play(api_url, owner, films["halves"], capabilities=CHROMIUM)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["method"] == "transcode" and "2 parts" in body["reason"]
    assert body["duration_seconds"] == pytest.approx(4.0, abs=0.3)
    _stop(api_url, owner, body["session_id"])


def test_jellyfin_lists_versions_as_media_sources(api_url, films) -> None:
    owner = films["owner"]
    film_hex, hd_hex = films["film"].replace("-", ""), films["hd"].replace("-", "")
    r = httpx.get(f"{api_url}/Items/{film_hex}", headers=owner["jf"], timeout=30)
    assert r.status_code == 200, r.text
    sources = r.json()["MediaSources"]
    assert r.json()["MediaSourceCount"] == 2 and "PartCount" not in r.json()
    validate(r)
    halves = httpx.get(f"{api_url}/Items/{films['halves'].replace('-', '')}", headers=owner["jf"], timeout=30)
    assert halves.status_code == 200 and validate(halves)["PartCount"] == 2
    assert len(halves.json()["MediaSources"]) == halves.json()["MediaSourceCount"] == 1
    assert [(s["Id"], s["Name"], s["Container"]) for s in sources] == [
        (film_hex, "Pick", "mkv"), (hd_hex, "1080p", "mp4"),
    ]  # fmt: skip

    def info(**body) -> dict:
        r = httpx.post(f"{api_url}/Items/{film_hex}/PlaybackInfo", params={"UserId": owner["id"]},
                       json={"DeviceProfile": CHROME, **body}, headers=owner["jf"], timeout=30)  # fmt: skip
        assert r.status_code == 200, r.text
        return r.json()

    best = info()  # no choice (or the film's own id): the version Chrome plays directly
    assert [(s["Id"], s["SupportsDirectPlay"]) for s in best["MediaSources"]] == [(hd_hex, True)]
    assert info(MediaSourceId=film_hex)["MediaSources"][0]["Id"] == hd_hex
    chosen = info(MediaSourceId=hd_hex)["MediaSources"][0]
    assert chosen["Id"] == hd_hex
    r = httpx.post(f"{api_url}/Items/{film_hex}/PlaybackInfo", json={"MediaSourceId": uuid.uuid4().hex},
                   headers=owner["jf"], timeout=30)  # fmt: skip
    assert r.status_code == 404

    # A film in parts: never direct play, a TranscodingUrl for the whole film.
    halves_hex = films["halves"].replace("-", "")
    r = httpx.post(f"{api_url}/Items/{halves_hex}/PlaybackInfo", json={"DeviceProfile": CHROME},
                   headers=owner["jf"], timeout=30)  # fmt: skip
    assert r.status_code == 200, r.text
    [joined] = r.json()["MediaSources"]
    assert (joined["Id"], joined["SupportsDirectPlay"]) == (halves_hex, False)
    assert joined["TranscodingUrl"].startswith(f"/videos/{halves_hex}/master.m3u8?")
    assert joined["RunTimeTicks"] == pytest.approx(4 * 10_000_000, rel=0.1)

    stream = httpx.get(f"{api_url}/Videos/{film_hex}/stream.mp4",
                       params={"Static": "true", "MediaSourceId": hd_hex}, headers=owner["jf"], timeout=30)  # fmt: skip
    assert stream.status_code == 200 and stream.content == films["mp4_bytes"]
    other = httpx.get(f"{api_url}/Videos/{film_hex}/stream",
                      params={"Static": "true", "MediaSourceId": films["halves"].replace("-", "")},
                      headers=owner["jf"], timeout=30)  # fmt: skip
    assert other.status_code == 404
