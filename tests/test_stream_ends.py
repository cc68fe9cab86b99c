"""The end of a file's streams is measured once per file version and kept (``stream_ends``, issue 13):
the api, the worker and the opening maker plan a session from the stored figure. Real PostgreSQL
and PyAV on a real file."""

from __future__ import annotations

import time

from yaffw.media import source as media_source
from yaffw.media import timeline

from tests._media_rows import insert_item, make_library
from tests.transcode_support import make_long_hevc, transcode_job


async def test_the_stream_end_is_kept_per_file_version(pool, sample_media) -> None:
    path = make_long_hevc(sample_media.root.parent / f"{sample_media.root.name}-long-hevc.mkv")
    lib = await make_library(pool, path.parent, name=f"ends-{time.time_ns()}")
    item = await insert_item(pool, lib, path)
    src = await media_source.load(pool, item, None)
    job = transcode_job("s", item, path)
    measured = timeline.stream_end(path)
    assert measured is not None

    plan = await media_source.plan(pool, src, job)
    assert plan.duration == measured
    row = await pool.fetchrow("SELECT header_hash, seconds FROM stream_ends WHERE item_id = $1", item)
    assert row["header_hash"] == src.header_hash and row["seconds"] == measured

    # The next plan reads the stored figure (the file is not opened again): a stored 30 s shows.
    await pool.execute("UPDATE stream_ends SET seconds = 30 WHERE item_id = $1", item)
    assert (await media_source.plan(pool, src, job)).duration == 30

    # Another version of the file (the scan gave it another header hash): measured again.
    await pool.execute("UPDATE media_items SET header_hash = 'changed' WHERE id = $1", item)
    changed = await media_source.load(pool, item, None)
    assert (await media_source.plan(pool, changed, job)).duration == measured
    assert await pool.fetchval("SELECT header_hash FROM stream_ends WHERE item_id = $1", item) == "changed"

    # Removing the item removes its figure.
    await pool.execute("DELETE FROM media_items WHERE id = $1", item)
    assert await pool.fetchval("SELECT count(*) FROM stream_ends WHERE item_id = $1", item) == 0
