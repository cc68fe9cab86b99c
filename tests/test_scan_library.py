"""The scanner against the generated sample media, with real PostgreSQL, Redis and S3 (moto over HTTP)."""

from __future__ import annotations

import asyncio
import json
import shutil

import pytest
from yaffw import events
from yaffw.errors import BadInput, NotFound

from tests._scan_helpers import items, make_library, make_scanner, make_store, record_opens, streams

pytestmark = pytest.mark.timeout(300)


async def stream_events(redis, keys, library_id: str) -> list[dict]:
    """Events on the bus about ``library_id`` (other tests share the stream), oldest first."""
    out = []
    for _, fields in await redis.xrange(keys.events):
        doc = json.loads(fields[events.STREAM_FIELD])
        if doc.get("data", {}).get("library_id") == library_id:
            out.append(doc)
    return out


async def test_sample_library_tree_streams_images_and_events(clean_db, redis, keys, settings, sample_media):
    pool = clean_db
    movies = await make_library(pool, "Movies", "movies", [sample_media.movies])
    shows = await make_library(pool, "Shows", "shows", [sample_media.shows])
    scanner = make_scanner(pool, redis, settings)
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.notify)

    [movies_result] = await scanner.scan(movies)
    [shows_result] = await scanner.scan(shows)

    assert (movies_result.added, movies_result.failed, movies_result.removed) == (3, 2, 0)
    assert (shows_result.added, shows_result.folders_added, shows_result.failed) == (3, 3, 0)
    by_path = await items(pool, movies)
    assert set(by_path) == {str(sample_media.mp4), str(sample_media.mkv), str(sample_media.unicode)}

    mp4 = by_path[str(sample_media.mp4)]
    assert (mp4["type"], mp4["name"], mp4["year"], mp4["parent_id"]) == ("movie", "Big Buck Test", 2020, None)
    assert mp4["plot"].startswith("A test pattern") and mp4["genres"] == ["Animation", "Comedy"]
    assert mp4["rating"] == pytest.approx(7.4)
    assert "mp4" in mp4["container"].split(",") and mp4["duration_seconds"] == pytest.approx(30, abs=0.2)
    assert mp4["size"] == sample_media.mp4.stat().st_size and len(mp4["header_hash"]) == 64
    video, audio = await streams(pool, mp4["id"])
    assert (video["type"], video["codec"], video["width"], video["height"]) == ("video", "h264", 640, 360)
    assert (video["frame_rate"], video["pixel_format"], video["bit_depth"]) == (24, "yuv420p", 8)
    assert video["profile"] and video["level"] and video["bitrate"] > 0
    assert (audio["codec"], audio["channels"], audio["channel_layout"], audio["sample_rate"]) == (
        "aac", 2, "stereo", 48000,
    )  # fmt: skip
    assert (audio["language"], audio["is_default"], audio["is_external"]) == ("eng", True, False)

    mkv = by_path[str(sample_media.mkv)]
    assert (mkv["name"], mkv["year"]) == ("Hevc Sample", 2021) and "matroska" in mkv["container"]
    v, a1, a2, sub = await streams(pool, mkv["id"])
    assert (v["codec"], v["width"], v["height"], v["profile"]) == ("hevc", 1280, 720, "Main")
    assert (a1["codec"], a1["language"], a1["title"], a1["is_default"]) == ("aac", "eng", "English Stereo", True)
    assert (a2["codec"], a2["channels"], a2["channel_layout"]) == ("ac3", 6, "5.1(side)")
    assert (a2["language"], a2["title"], a2["is_default"]) == ("fre", "Français 5.1", False)
    assert (sub["type"], sub["codec"], sub["language"]) == ("subtitle", "subrip", "eng")

    unicode = by_path[str(sample_media.unicode)]
    assert (unicode["name"], unicode["year"]) == ("Amélie – Ünïcode", 2001)

    failures = {r["path"]: r["error"] for r in await pool.fetch("SELECT * FROM scan_failures WHERE library_id = $1",
                                                                movies)}  # fmt: skip
    assert set(failures) == {str(sample_media.truncated), str(sample_media.empty)}
    assert "truncated" in failures[str(sample_media.truncated)] and "empty" in failures[str(sample_media.empty)]

    # Images: the sidecar poster as is, a frame from the video otherwise; both in S3 with their size.
    store = make_store(settings)
    poster = await pool.fetchrow("SELECT * FROM images WHERE item_id = $1", mp4["id"])
    assert (poster["kind"], poster["source"], poster["width"], poster["height"]) == ("primary", "sidecar", 400, 600)
    assert poster["object_key"] == f"items/{mp4['id']}/primary.jpg"
    assert store.get(poster["object_key"]) == (sample_media.mp4.parent / "poster.jpg").read_bytes()
    still = await pool.fetchrow("SELECT * FROM images WHERE item_id = $1", mkv["id"])
    assert (still["source"], still["width"], still["height"]) == ("extracted", 1280, 720)
    assert store.get(still["object_key"])[:2] == b"\xff\xd8"  # a JPEG

    # The show: series → seasons → episodes, numbered, with tvshow.nfo and the folder poster.
    tree = await items(pool, shows)
    show_dir = sample_media.shows / "Test Show"
    series = tree[str(show_dir)]
    assert (series["type"], series["name"], series["year"], series["genres"]) == (
        "series", "Test Show", 2019, ["Documentary"],
    )  # fmt: skip
    assert series["header_hash"] is None and series["parent_id"] is None
    season1, season2 = tree[str(show_dir / "Season 01")], tree[str(show_dir / "Season 02")]
    assert (season1["type"], season1["name"], season1["index_number"], season1["parent_id"]) == (
        "season", "Season 1", 1, series["id"],
    )  # fmt: skip
    assert season2["index_number"] == 2 and season2["parent_id"] == series["id"]
    episodes = {(r["parent_index_number"], r["index_number"]): r for r in tree.values() if r["type"] == "episode"}
    assert set(episodes) == {(1, 1), (1, 2), (2, 1)}
    assert episodes[(1, 2)]["parent_id"] == season1["id"] and episodes[(2, 1)]["parent_id"] == season2["id"]
    assert episodes[(1, 1)]["name"] == "Episode 1"  # the embedded title
    series_image = await pool.fetchrow("SELECT * FROM images WHERE item_id = $1", series["id"])
    assert (series_image["width"], series_image["height"]) == (400, 600)

    # Events on the bus, the live bar on the notify channel, and the activity log.
    bus = await stream_events(redis, keys, movies)
    types = [e["type"] for e in bus]
    assert types[0] == events.SCAN_PROGRESS and types[-1] == events.SCAN_COMPLETED
    done = bus[-1]["data"]
    assert (done["added"], done["updated"], done["moved"], done["removed"], done["failed"]) == (3, 0, 0, 0, 2)
    assert done["seconds"] >= 0 and bus[-1]["source"] == "/yaffw/scan"
    added = {e["data"]["item_id"] for e in bus if e["type"] == events.ITEM_ADDED}
    assert added == {str(r["id"]) for r in by_path.values()}
    shows_added = {
        e["data"]["item_id"] for e in await stream_events(redis, keys, shows) if e["type"] == events.ITEM_ADDED
    }
    assert shows_added == {str(r["id"]) for r in tree.values()}  # episodes and their folders

    notified: list[dict] = []
    deadline = asyncio.get_running_loop().time() + 30
    while not any(m["type"] == events.SCAN_COMPLETED and m["library_id"] == shows for m in notified):
        assert asyncio.get_running_loop().time() < deadline, notified
        msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if msg is not None:
            notified.append(json.loads(msg["data"]))
    await pubsub.aclose()
    mine = [m for m in notified if m["library_id"] == movies]
    assert {m["type"] for m in mine} == {events.SCAN_PROGRESS, events.ITEM_ADDED, events.SCAN_COMPLETED}
    assert next(m for m in mine if m["type"] == events.SCAN_COMPLETED)["data"]["added"] == 3

    log = await pool.fetch("SELECT message, severity, data FROM activity_log WHERE type = 'scan' ORDER BY id")
    mine_log = [r for r in log if r["data"].get("library_id") == movies]
    assert "started" in mine_log[0]["message"] and "finished" in mine_log[-1]["message"]
    assert mine_log[-1]["severity"] == "warning" and mine_log[-1]["data"]["failed"] == 2
    last_scan = await pool.fetchval("SELECT last_scan_at FROM libraries WHERE id = $1", movies)
    assert last_scan is not None


async def test_rescan_of_unchanged_library_opens_no_media_file(clean_db, redis, settings, sample_media):
    pool = clean_db
    library = await make_library(pool, "All", "mixed", [sample_media.root])
    scanner = make_scanner(pool, redis, settings)
    with record_opens(sample_media.root) as cold:
        [first] = await scanner.scan(library)
    # The recorder does see the scan's reads (header hashes, nfo, posters) when there are any...
    assert first.added == 6 and first.opened >= 8
    assert any(p.endswith(".mp4") for p in cold.opened)
    before = {r["path"]: (r["id"], r["date_modified"]) for r in (await items(pool, library)).values()}

    with record_opens(sample_media.root) as warm:
        [second] = await scanner.scan(library)
    # ...and on the rescan it sees none, PyAV opened nothing (the probe counter), and no program ran.
    assert warm.opened == [] and warm.processes == []
    assert second.opened == 0
    assert (second.added, second.updated, second.moved, second.removed) == (0, 0, 0, 0)
    assert second.unchanged == 6 and second.failed == 2  # the broken files stay failed, unopened
    after = {r["path"]: (r["id"], r["date_modified"]) for r in (await items(pool, library)).values()}
    assert after == before  # no row was rewritten


async def test_rename_and_move_keep_item_ids_and_user_data(clean_db, redis, settings, media_copy):
    pool = clean_db
    movies = await make_library(pool, "Movies", "movies", [media_copy.movies])
    shows = await make_library(pool, "Shows", "shows", [media_copy.shows])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(movies)
    await scanner.scan(shows)
    film = (await items(pool, movies))[str(media_copy.mkv)]
    episode = (await items(pool, shows))[str(media_copy.episodes[1])]
    user = await pool.fetchval("INSERT INTO users (name, password_hash) VALUES ('viewer', 'x') RETURNING id")
    for item_id in (film["id"], episode["id"]):
        await pool.execute(
            "INSERT INTO user_item_data (user_id, item_id, position_seconds, is_favorite, play_count)"
            " VALUES ($1, $2, 42.5, true, 3)",
            user, item_id,
        )  # fmt: skip

    # The film's folder and file get a new name; the episode moves to another season folder.
    new_dir = media_copy.movies / "Renamed Film (2022)"
    media_copy.mkv.parent.rename(new_dir)
    (new_dir / "Hevc Sample (2021).mkv").rename(new_dir / "Renamed Film (2022).mkv")
    moved_episode = media_copy.shows / "Test Show" / "Season 02" / "Test Show S02E02.mp4"
    media_copy.episodes[1].rename(moved_episode)

    [movies_again] = await scanner.scan(movies)
    [shows_again] = await scanner.scan(shows)
    assert (movies_again.moved, movies_again.added, movies_again.removed) == (1, 0, 0)
    assert (shows_again.moved, shows_again.added, shows_again.removed) == (1, 0, 0)

    renamed = (await items(pool, movies))[str(new_dir / "Renamed Film (2022).mkv")]
    assert renamed["id"] == film["id"]
    assert (renamed["name"], renamed["year"]) == ("Renamed Film", 2022)
    assert len(await streams(pool, renamed["id"])) == 4
    tree = await items(pool, shows)
    now = tree[str(moved_episode)]
    assert now["id"] == episode["id"]
    assert (now["parent_index_number"], now["index_number"]) == (2, 2)
    assert now["parent_id"] == tree[str(media_copy.shows / "Test Show" / "Season 02")]["id"]
    data = await pool.fetch("SELECT item_id, position_seconds, is_favorite, play_count FROM user_item_data")
    assert {(r["item_id"], r["position_seconds"], r["is_favorite"], r["play_count"]) for r in data} == {
        (film["id"], 42.5, True, 3), (episode["id"], 42.5, True, 3),
    }  # fmt: skip


async def test_deleted_files_are_removed_with_empty_folders(clean_db, redis, keys, settings, media_copy):
    pool = clean_db
    shows = await make_library(pool, "Shows", "shows", [media_copy.shows])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(shows)
    show_dir = media_copy.shows / "Test Show"
    before = await items(pool, shows)
    gone_episode = before[str(media_copy.episodes[2])]
    gone_season = before[str(show_dir / "Season 02")]
    image_key = await pool.fetchval("SELECT object_key FROM images WHERE item_id = $1", gone_episode["id"])
    store = make_store(settings)
    assert store.get(image_key)

    shutil.rmtree(show_dir / "Season 02")
    [result] = await scanner.scan(shows)

    assert (result.removed, result.folders_removed, result.added) == (1, 1, 0)
    after = await items(pool, shows)
    assert str(media_copy.episodes[2]) not in after and str(show_dir / "Season 02") not in after
    assert str(show_dir) in after and str(media_copy.episodes[0]) in after
    with pytest.raises(NotFound):
        store.get(image_key)
    removed = {
        e["data"]["item_id"] for e in await stream_events(redis, keys, shows) if e["type"] == events.ITEM_REMOVED
    }
    assert removed == {str(gone_episode["id"]), str(gone_season["id"])}

    shutil.rmtree(show_dir)
    [result] = await scanner.scan(shows)
    assert result.removed == 2 and result.folders_removed == 2  # season 1, then the series
    assert await items(pool, shows) == {}


async def test_broken_files_are_recorded_then_retried_when_they_change(clean_db, redis, settings, media_copy):
    pool = clean_db
    movies = await make_library(pool, "Movies", "movies", [media_copy.movies])
    scanner = make_scanner(pool, redis, settings)
    [first] = await scanner.scan(movies)
    assert first.failed == 2 and first.added == 3
    assert set(first.failures) == {str(media_copy.truncated), str(media_copy.empty)}
    rows = await pool.fetch("SELECT path, size FROM scan_failures WHERE library_id = $1", movies)
    assert {(r["path"], r["size"]) for r in rows} == {(str(media_copy.truncated), 20480), (str(media_copy.empty), 0)}

    [second] = await scanner.scan(movies)
    assert second.failed == 2 and second.opened == 0  # unchanged broken files are not reread

    # The truncated file is replaced by a whole one: it scans, and its failure is forgotten.
    shutil.copyfile(media_copy.mp4, media_copy.truncated)
    with media_copy.truncated.open("ab") as f:
        f.write(b"\1" * 32)  # not the same header hash as the original film
    media_copy.empty.unlink()
    [third] = await scanner.scan(movies)
    assert (third.added, third.failed) == (1, 0)
    assert await pool.fetch("SELECT * FROM scan_failures WHERE library_id = $1", movies) == []
    fixed = (await items(pool, movies))[str(media_copy.truncated)]
    assert (fixed["name"], fixed["year"]) == ("Broken", 2019)


async def test_edited_sidecars_update_the_item_without_touching_others(clean_db, redis, settings, media_copy):
    pool = clean_db
    movies = await make_library(pool, "Movies", "movies", [media_copy.movies])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(movies)
    nfo = media_copy.mp4.parent / "movie.nfo"
    nfo.write_text(nfo.read_text().replace("<title>Big Buck Test</title>", "<title>Big Buck Redux</title>"))
    shutil.copyfile(
        media_copy.mp4.parent / "poster.jpg", media_copy.unicode.with_name("Amélie – Ünïcode (2001)-poster.jpg")
    )

    [result] = await scanner.scan(movies)
    assert (result.updated, result.added, result.unchanged) == (2, 0, 1)
    by_path = await items(pool, movies)
    assert by_path[str(media_copy.mp4)]["name"] == "Big Buck Redux"
    image = await pool.fetchrow("SELECT * FROM images WHERE item_id = $1", by_path[str(media_copy.unicode)]["id"])
    assert (image["source"], image["width"], image["height"]) == ("sidecar", 400, 600)


async def test_subtree_scan_only_judges_its_subtree(clean_db, redis, settings, media_copy):
    pool = clean_db
    shows = await make_library(pool, "Shows", "shows", [media_copy.shows])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(shows)
    season2 = media_copy.shows / "Test Show" / "Season 02"
    new_episode = season2 / "Test Show S02E02.mp4"
    shutil.copyfile(media_copy.episodes[2], new_episode)
    with new_episode.open("ab") as f:
        f.write(b"\0" * 8)
    media_copy.episodes[0].unlink()  # outside the subtree: not judged by the subtree scan

    [partial] = await scanner.scan(shows, str(season2))
    assert (partial.added, partial.removed, partial.path) == (1, 0, str(season2))
    assert str(media_copy.episodes[0]) in await items(pool, shows)
    [full] = await scanner.scan(shows)
    assert (full.added, full.removed) == (0, 1)

    with pytest.raises(BadInput):
        await scanner.scan(shows, str(media_copy.movies))
    with pytest.raises(NotFound):
        await scanner.scan("00000000-0000-0000-0000-000000000000")


async def test_concurrent_scans_never_duplicate(clean_db, redis, settings, sample_media):
    pool = clean_db
    shows = await make_library(pool, "Shows", "shows", [sample_media.shows])
    movies = await make_library(pool, "Movies", "movies", [sample_media.movies])
    scanner = make_scanner(pool, redis, settings)

    # Through the lock: the second request is queued and run by the first scan before it lets go.
    first, second = await asyncio.gather(scanner.scan(shows), scanner.scan(shows))
    queued, ran = (first, second) if first[0].queued else (second, first)
    assert len(queued) == 1 and queued[0].queued
    assert len(ran) == 2 and ran[0].added == 3 and ran[1].unchanged == 3 and ran[1].opened == 0
    assert not await redis.exists(scanner.keys.scan_lock(shows))

    # Without the lock (two replicas that both think they hold it): the upserts still keep one row each.
    library = await scanner.pool.fetchrow("SELECT id, name, kind, paths FROM libraries WHERE id = $1", movies)
    from yaffw_scan.register import Library

    lib = Library(str(library["id"]), library["name"], library["kind"], tuple(library["paths"]))
    await asyncio.gather(scanner._scan_once(lib, None), scanner._scan_once(lib, None))
    other = make_scanner(pool, redis, settings)
    await asyncio.gather(scanner._scan_once(lib, None), other._scan_once(lib, None))
    for library_id, expected in ((shows, 6), (movies, 3)):
        rows = await pool.fetch("SELECT path, type FROM media_items WHERE library_id = $1", library_id)
        assert len(rows) == expected and len({(r["path"], r["type"]) for r in rows}) == expected
    assert await pool.fetchval("SELECT count(*) FROM media_streams s JOIN media_items i ON i.id = s.item_id"
                               " WHERE i.library_id = $1", movies) == 2 + 4 + 2  # fmt: skip


async def test_progress_is_throttled(redis, keys):
    from yaffw_scan.report import Reporter

    library_id = "11111111-1111-1111-1111-111111111111"
    reporter = Reporter(redis, keys, library_id, interval=60)
    for n in range(500):
        await reporter.progress("probe", n, 500)
    await reporter.progress("cleanup", 500, 500)  # a new phase is no excuse to exceed the rate
    await reporter.progress("done", 500, 500, force=True)
    sent = [e for e in await stream_events(redis, keys, library_id) if e["type"] == events.SCAN_PROGRESS]
    assert [(e["data"]["phase"], e["data"]["done"]) for e in sent] == [("probe", 0), ("done", 500)]


@pytest.fixture(autouse=True)
def _quiet_ffmpeg():
    import av.logging

    av.logging.set_level(None)


async def test_missing_library_folder_is_not_a_deletion(clean_db, redis, settings, media_copy):
    pool = clean_db
    movies = await make_library(pool, "Movies", "movies", [media_copy.movies])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(movies)
    before = await items(pool, movies)
    unmounted = media_copy.movies.with_name("movies-away")
    media_copy.movies.rename(unmounted)  # as an unmounted share looks

    [result] = await scanner.scan(movies)

    assert (result.removed, result.added) == (0, 0)
    assert set(await items(pool, movies)) == set(before)
    unmounted.rename(media_copy.movies)
    [back] = await scanner.scan(movies)
    assert (back.removed, back.added, back.unchanged) == (0, 0, 3)


async def test_edited_series_nfo_updates_the_series_without_opening_media(clean_db, redis, keys, settings, media_copy):
    pool = clean_db
    shows = await make_library(pool, "Shows", "shows", [media_copy.shows])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(shows)
    show_dir = media_copy.shows / "Test Show"
    series_id = (await items(pool, shows))[str(show_dir)]["id"]
    nfo = show_dir / "tvshow.nfo"
    nfo.write_text(nfo.read_text().replace("<title>Test Show</title>", "<title>The Test Show</title>"))
    (show_dir / "season02-poster.jpg").write_bytes((show_dir / "poster.jpg").read_bytes())

    [result] = await scanner.scan(shows)

    assert result.opened == 0 and (result.updated, result.unchanged) == (0, 3)
    tree = await items(pool, shows)
    assert tree[str(show_dir)]["id"] == series_id and tree[str(show_dir)]["name"] == "The Test Show"
    season2 = tree[str(show_dir / "Season 02")]
    image = await pool.fetchrow("SELECT width, height FROM images WHERE item_id = $1", season2["id"])
    assert (image["width"], image["height"]) == (400, 600)
    updated = [
        e["data"]["item_id"] for e in await stream_events(redis, keys, shows) if e["type"] == events.ITEM_UPDATED
    ]
    assert sorted(updated) == sorted([str(series_id), str(season2["id"])])


async def test_store_outage_is_recorded_and_retried_next_scan(clean_db, redis, settings, sample_media):
    from yaffw.keys import Keys
    from yaffw.storage import S3Store
    from yaffw_scan.scanner import Scanner

    pool = clean_db
    shows = await make_library(pool, "Shows", "shows", [sample_media.shows])
    missing_bucket = S3Store(settings.replace(s3_bucket="no-such-bucket-" + shows[:8]))
    broken = Scanner(pool, redis, missing_bucket, Keys(settings.redis_prefix), concurrency=2)
    # The series' poster cannot be stored either, so the first episode fails while creating it.
    [outage] = await broken.scan(shows)
    assert outage.failed == 3 and outage.added == 0
    rows = await pool.fetch("SELECT size, mtime, error FROM scan_failures WHERE library_id = $1", shows)
    assert len(rows) == 3 and all(r["size"] is None and r["mtime"] is None for r in rows)
    assert all("NoSuchBucket" in r["error"] for r in rows)

    [fixed] = await make_scanner(pool, redis, settings).scan(shows)
    assert (fixed.added, fixed.failed) == (3, 0)
    assert await pool.fetch("SELECT * FROM scan_failures WHERE library_id = $1", shows) == []


async def test_subtree_scan_finds_a_file_moved_in_from_outside(clean_db, redis, settings, media_copy):
    pool = clean_db
    shows = await make_library(pool, "Shows", "shows", [media_copy.shows])
    scanner = make_scanner(pool, redis, settings)
    await scanner.scan(shows)
    episode_id = (await items(pool, shows))[str(media_copy.episodes[1])]["id"]
    season2 = media_copy.shows / "Test Show" / "Season 02"
    media_copy.episodes[1].rename(season2 / "Test Show S02E05.mp4")

    [result] = await scanner.scan(shows, str(season2))

    assert (result.moved, result.added, result.removed) == (1, 0, 0)
    moved = (await items(pool, shows))[str(season2 / "Test Show S02E05.mp4")]
    assert moved["id"] == episode_id and (moved["parent_index_number"], moved["index_number"]) == (2, 5)
