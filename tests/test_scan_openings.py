"""The scan asks for the openings of the films and episodes it adds or changes (issue 13,
``yaffw.opening_queue``), and forgets those of films it removes or whose file changed
(``yaffw.opening_store``): real scan, PostgreSQL, Redis and S3."""

from __future__ import annotations

import os
import uuid

from yaffw import opening_store

from tests._scan_helpers import items, make_library, make_scanner, make_store


def _ids(raw: list) -> list[str]:
    return [x.decode() if isinstance(x, bytes) else x for x in raw]


async def test_the_scan_asks_for_openings_of_films_and_episodes_only(clean_db, redis, keys, settings, sample_media):
    pool = clean_db
    movies = await make_library(pool, "Movies", "movies", [sample_media.movies])
    shows = await make_library(pool, "Shows", "shows", [sample_media.shows])
    await redis.delete(keys.openings_queue)
    try:
        await make_scanner(pool, redis, settings, openings=True).scan(movies)
        asked = _ids(await redis.lrange(keys.openings_queue, 0, -1))
        files = "SELECT id::text, type FROM media_items WHERE library_id = $1 AND header_hash IS NOT NULL"
        rows = await pool.fetch(files, movies)
        films = {r["id"] for r in rows if r["type"] == "movie"}
        assert films and len(asked) == len(set(asked)) and set(asked) == films

        await redis.delete(keys.openings_queue)
        await make_scanner(pool, redis, settings, openings=True).scan(shows)
        episodes = await pool.fetch("SELECT id::text FROM media_items WHERE library_id = $1 AND type = 'episode'",
                                    shows)  # fmt: skip
        assert episodes and set(_ids(await redis.lrange(keys.openings_queue, 0, -1))) == {r["id"] for r in episodes}

        # An unchanged library asks for nothing again; with openings off, nothing is asked.
        await redis.delete(keys.openings_queue)
        await make_scanner(pool, redis, settings, openings=True).scan(movies)
        assert await redis.llen(keys.openings_queue) == 0
        await pool.execute("UPDATE media_items SET size = size + 1 WHERE library_id = $1", shows)  # looks changed
        await make_scanner(pool, redis, settings, openings=False).scan(shows)
        assert await redis.llen(keys.openings_queue) == 0
    finally:
        await redis.delete(keys.openings_queue)


def _stored(store, item_id: str) -> list[str]:
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=opening_store.item_prefix(item_id))
    return [o["Key"] for o in listed.get("Contents", [])]


async def _plant(store, redis, keys, item_id: str) -> None:
    """An opening as a worker stores it: two segments, the count, then the index."""
    for leaf, blob in (("0.ts", b"seg0"), ("1.ts", b"seg1"), ("count", b"2")):
        store.put(opening_store.object_name(item_id, "k1", leaf), blob, "video/mp2t")
    await opening_store.index(redis, keys, item_id, "k1", 2)


async def test_the_scan_forgets_openings_of_films_removed_moved_or_changed(clean_db, redis, keys, settings,
                                                                          media_copy):  # fmt: skip
    """Such openings can never be used again (their key holds the file's path, size and mtime): the
    scan deletes them from the store and the index; those of other films stay."""
    pool = clean_db
    store = make_store(settings)
    movies = await make_library(pool, "Movies", "movies", [media_copy.movies])
    scanner = make_scanner(pool, redis, settings, openings=False)
    await scanner.scan(movies)
    rows = await items(pool, movies)
    gone, moved, changed = (str(rows[str(p)]["id"]) for p in (media_copy.mp4, media_copy.mkv, media_copy.unicode))
    bystander = str(uuid.uuid4())  # a film of another library
    planted = [gone, moved, changed, bystander]
    try:
        for item_id in planted:
            await _plant(store, redis, keys, item_id)
        await scanner.scan(movies)  # nothing changed: every opening stays
        assert all(len(_stored(store, i)) == 3 for i in planted)

        media_copy.mp4.unlink()
        new_home = media_copy.movies / "Moved Film (2021)"
        new_home.mkdir()
        media_copy.mkv.rename(new_home / "Moved Film (2021).mkv")
        later = media_copy.unicode.stat().st_mtime + 60
        os.utime(media_copy.unicode, (later, later))
        [result] = await scanner.scan(movies)
        assert (result.removed, result.moved, result.updated) == (1, 1, 1), result

        for item_id in (gone, moved, changed):
            assert _stored(store, item_id) == [], item_id
            assert await redis.exists(keys.opening(item_id)) == 0, item_id
        assert len(_stored(store, bystander)) == 3
        assert await opening_store.indexed(redis, keys, bystander, "k1") == 2
    finally:
        await opening_store.forget(store, redis, keys, planted)
    assert all(_stored(store, i) == [] for i in planted)
