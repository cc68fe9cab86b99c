"""The scan asks for the openings of the films and episodes it adds or changes (issue 13,
``yaffw.opening_queue``): real scan, PostgreSQL, Redis and S3."""

from __future__ import annotations

from tests._scan_helpers import make_library, make_scanner


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
