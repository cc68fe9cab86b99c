"""Files that lead out of the library, or are not files at all, against the running parts (issue 14):
a scanned film replaced by a symlink to a secret outside every media root, by a FIFO, by a link to a
``/dev`` node. Direct play (``/api`` and Jellyfin's stream) refuses them with a JSON 404 (``file_refused``) and does not
hang; the scan finishes, skips them and records why; the transcode worker fails the job instead of
running FFmpeg. Symlinks that stay inside the library, and a library reached through a symlink,
keep working.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
from yaffw import queue

from tests._media_rows import insert_item, make_library, make_user
from tests._scan_helpers import items, make_scanner
from tests._scan_helpers import make_library as make_scan_library
from tests.transcode_support import WorkerProcess, open_session, register_file, transcode_job, wait_for
from tests.transcode_support import make_user as make_worker_user

pytestmark = pytest.mark.timeout(240)

SECRET = "root:x:0:0:the-secret-line:/root:/bin/bash\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A passwd-like file outside every media root."""
    folder = tmp_path / "outside"
    folder.mkdir()
    secret = folder / "passwd"
    secret.write_text(SECRET)
    return secret


@pytest.fixture
async def film(pool, settings, sample_media, tmp_path: Path) -> dict:
    """A library of one MP4 (a private copy), its item and a user who sees it."""
    root = tmp_path / "library"
    (root / "Film (2020)").mkdir(parents=True)
    path = root / "Film (2020)" / "Film (2020).mp4"
    shutil.copy(sample_media.mp4, path)
    lib = await make_library(pool, root)
    item = await insert_item(pool, lib, path)
    user = await make_user(pool, settings, libraries=(lib,))
    return {"root": root, "path": path, "lib": lib, "id": item, "user": user, "bytes": path.read_bytes()}


def _file(api_url: str, film: dict, item_id: str | None = None) -> httpx.Response:
    return httpx.get(f"{api_url}/api/items/{item_id or film['id']}/file", headers=film["user"]["headers"], timeout=20)


def _refused(r: httpx.Response) -> None:
    assert r.status_code == 404, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"]["code"] == "file_refused"
    assert "the-secret-line" not in r.text


def test_direct_play_refuses_a_symlink_out_of_the_library(api_url, film, outside) -> None:
    assert _file(api_url, film).content == film["bytes"]
    film["path"].unlink()
    film["path"].symlink_to(outside)  # after the scan: the row still names the path
    _refused(_file(api_url, film))
    # Jellyfin's stream endpoint goes through the same door.
    jf = httpx.get(f"{api_url}/Videos/{uuid.UUID(film['id']).hex}/stream", params={"Static": "true"},
                   headers=film["user"]["headers"], timeout=20)  # fmt: skip
    _refused(jf)


def test_direct_play_refuses_a_dev_node_link(api_url, film) -> None:
    film["path"].unlink()
    film["path"].symlink_to("/dev/zero")
    _refused(_file(api_url, film))


def test_direct_play_refuses_a_fifo_without_hanging(api_url, film) -> None:
    film["path"].unlink()
    os.mkfifo(film["path"])
    _refused(_file(api_url, film))  # a blocking open would never return (no writer)
    assert httpx.get(f"{api_url}/healthz", timeout=5).status_code == 200


async def test_symlinks_inside_the_library_keep_working(api_url, pool, film, tmp_path) -> None:
    # A film linked from another folder of the same library.
    (film["root"] / "Links").mkdir()
    link = film["root"] / "Links" / "Same Film.mp4"
    link.symlink_to(film["path"])
    linked = await insert_item(pool, film["lib"], link)
    r = _file(api_url, film, linked)
    assert r.status_code == 200 and r.content == film["bytes"]
    # A library whose folder is itself reached through a symlink (people symlink their libraries).
    alias = tmp_path / "alias-of-library"
    alias.symlink_to(film["root"])
    await pool.execute("UPDATE libraries SET paths = $2 WHERE id = $1", film["lib"], [str(alias)])
    via_alias = await insert_item(pool, film["lib"], alias / "Film (2020)" / "Film (2020).mp4")
    r = _file(api_url, film, via_alias)
    assert r.status_code == 200 and r.content == film["bytes"]


async def test_scan_skips_and_reports_links_out_fifos_and_devices(clean_db, redis, settings, sample_media,
                                                                  tmp_path, outside) -> None:  # fmt: skip
    root = tmp_path / "movies"
    (root / "Good (2020)").mkdir(parents=True)
    good = root / "Good (2020)" / "Good (2020).mp4"
    shutil.copy(sample_media.mp4, good)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(sample_media.mkv, elsewhere / "real.mkv")  # real media: only the location is wrong
    (root / "Escape (2021).mkv").symlink_to(elsewhere / "real.mkv")
    (root / "Passwd (2021).mkv").symlink_to(outside)
    (root / "Zero (2023).mkv").symlink_to("/dev/zero")
    os.mkfifo(root / "Pipe (2022).mkv")
    (root / "Linked (2019).mp4").symlink_to(good)  # inside the library: kept
    (root / "Escaped Folder").symlink_to(elsewhere, target_is_directory=True)
    library = await make_scan_library(clean_db, "Movies", "movies", [root])
    scanner = make_scanner(clean_db, redis, settings)

    [result] = await asyncio.wait_for(scanner.scan(library), 120)  # a FIFO opened by the probe would hang

    found = await items(clean_db, library)
    assert str(good) in found and str(root / "Linked (2019).mp4") in found
    refused = {"Escape (2021).mkv", "Passwd (2021).mkv", "Zero (2023).mkv", "Pipe (2022).mkv", "Escaped Folder"}
    assert not {os.path.basename(p) for p in found} & refused, sorted(found)
    assert not any("elsewhere" in p for p in found)
    rows = await clean_db.fetch("SELECT path, error FROM scan_failures WHERE library_id = $1", library)
    failures = {os.path.basename(r["path"]): r["error"] for r in rows}
    assert refused <= set(failures), failures
    assert "outside the library" in failures["Escape (2021).mkv"]
    assert "not a regular file" in failures["Pipe (2022).mkv"]
    assert result.failed >= len(refused)

    # A film that becomes a link out of the library after its scan loses its row at the next one.
    good.unlink()
    good.symlink_to(elsewhere / "real.mkv")
    await asyncio.wait_for(scanner.scan(library), 120)
    found = await items(clean_db, library)
    assert str(good) not in found
    assert "outside the library" in await clean_db.fetchval(
        "SELECT error FROM scan_failures WHERE library_id = $1 AND path = $2", library, str(good))  # fmt: skip


async def _event(redis, keys, sid: str, timeout: float = 60) -> dict:
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.session_events(sid))
    try:

        async def poll():
            msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            return msg["data"] if msg else None

        got = await wait_for(poll, timeout, interval=0)
        assert got is not None, "no ready/failed event"
        return json.loads(got)
    finally:
        await pubsub.aclose()


async def test_worker_refuses_a_link_out_or_a_fifo(clean_db, redis, keys, settings, sample_media, tmp_path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(sample_media.mkv, elsewhere / "real.mkv")
    worker = WorkerProcess(settings, tmp_path / "worker.log").wait_ready()
    try:
        for kind in ("link", "fifo"):
            path = root / f"{kind}.mkv"
            shutil.copy(sample_media.mkv, path)
            item_id = await register_file(clean_db, path)  # its library's root is ``root``
            path.unlink()
            if kind == "link":
                path.symlink_to(elsewhere / "real.mkv")  # FFmpeg would transcode it happily
            else:
                os.mkfifo(path)
            user = await make_worker_user(clean_db)
            sid = uuid.uuid4().hex
            job = transcode_job(sid, item_id, path, height=180, segment_seconds=2)
            await open_session(redis, keys, settings, job, user_id=user, item_id=item_id)
            listen = asyncio.create_task(_event(redis, keys, sid))
            await asyncio.sleep(0.3)  # subscribed before the worker can answer
            await queue.enqueue(redis, keys, job)
            event = await listen
            assert event["type"] == "failed", (kind, event, worker.log())
            assert "refused" in event["error"], event
            assert await redis.get(keys.session_map(sid)) is None
    finally:
        worker.stop()


async def test_hls_playlists_refuse_a_link_out_or_a_fifo(api_url, film, outside) -> None:
    """HLS planning reads the file (stream end, keyframes) in the api: a file swapped for a link out
    of the library or a FIFO is refused there too, at once, without naming the path."""
    from tests.test_hls_api import CAPS

    async with httpx.AsyncClient(timeout=30) as http:
        for swap in ("link", "fifo"):
            # Swapped before the playback starts: the plan (made for the pre-warm, then cached for the
            # session) is the first thing that reads the file.
            film["path"].unlink()
            if swap == "link":
                film["path"].symlink_to(outside)
            else:
                os.mkfifo(film["path"])
            body = None
            try:
                r = await http.post(f"{api_url}/api/items/{film['id']}/playback", json={"capabilities": CAPS},
                                    headers=film["user"]["headers"])  # fmt: skip
                assert r.status_code == 201 and r.json()["method"] == "transcode", r.text
                body = r.json()
                master = await http.get(httpx.URL(api_url).join(body["url"]))
                if master.status_code == 200:
                    variant = next(x for x in master.text.splitlines() if x and not x.startswith("#"))
                    r = await http.get(httpx.URL(api_url).join(body["url"]).join(variant))
                else:
                    r = master
                _refused(r)
                assert str(film["path"].parent) not in r.text
            finally:
                film["path"].unlink()
                film["path"].write_bytes(film["bytes"])
                if body is not None:
                    await http.delete(f"{api_url}/api/sessions/{body['session_id']}", headers=film["user"]["headers"])
