"""Playback sessions in a real Redis: create, read, update, list, expire, delete."""

from __future__ import annotations

import pytest
from yaffw import sessions
from yaffw.errors import BadInput
from yaffw.sessions import PlaybackSession


def _session(**over: object) -> PlaybackSession:
    values: dict = dict(
        sid=sessions.new_sid(), user_id="u1", user_name="alice", item_id="i1", item_name="Film",
        method="transcode", reason="video codec hevc not supported",
        job={"sid": "x", "item_id": "i1", "source_path": "/m/film.mkv", "start_segment": 0,
             "video": {"codec": "h264", "height": 720, "bitrate": 3_000_000}, "audio": "copy"},
        audio_index=1, max_height=720, duration_seconds=20.0, client="test",
    )  # fmt: skip
    values.update(over)
    return PlaybackSession(**values)


async def test_round_trip_and_update(redis, keys) -> None:
    s = _session()
    await sessions.create(redis, keys, s)
    got = await sessions.get(redis, keys, s.sid)
    assert got == s
    assert got.max_bitrate is None and got.paused is False and got.worker == ""
    assert 0 < await redis.ttl(keys.session(s.sid)) <= sessions.SESSION_TTL

    assert await sessions.update(redis, keys, s.sid, position_seconds=12.5, paused=True, worker="10.0.0.1:9000")
    got = await sessions.get(redis, keys, s.sid)
    assert (got.position_seconds, got.paused, got.worker) == (12.5, True, "10.0.0.1:9000")
    assert got.updated_at >= s.updated_at
    assert got.job.video.height == 720

    with pytest.raises(BadInput):
        await sessions.update(redis, keys, s.sid, user_id="someone-else")
    with pytest.raises(BadInput):
        await sessions.update(redis, keys, s.sid, nonsense=1)

    assert s.sid in {x.sid for x in await sessions.list_open(redis, keys)}
    assert await sessions.delete(redis, keys, s.sid)
    assert await sessions.get(redis, keys, s.sid) is None
    # A late progress report after stop must not bring back a half-filled hash.
    assert not await sessions.update(redis, keys, s.sid, position_seconds=13)
    assert await redis.exists(keys.session(s.sid)) == 0
    assert s.sid not in {x.sid for x in await sessions.list_open(redis, keys)}


async def test_list_open_drops_expired_and_sorts(redis, keys) -> None:
    old = _session(created_at=1000.0, method="direct_play", job=None)
    new = _session(created_at=2000.0)
    gone = _session()
    for s in (new, old, gone):
        await sessions.create(redis, keys, s)
    await redis.delete(keys.session(gone.sid))  # as if its TTL ran out
    listed = [s.sid for s in await sessions.list_open(redis, keys) if s.sid in {old.sid, new.sid, gone.sid}]
    assert listed == [old.sid, new.sid]
    assert not await redis.sismember(keys.sessions, gone.sid)
    got = await sessions.get(redis, keys, old.sid)
    assert got.job is None and got.method == "direct_play"
    for s in (old, new):
        await sessions.delete(redis, keys, s.sid)


async def test_unknown_method_refused(redis, keys) -> None:
    with pytest.raises(BadInput):
        await sessions.create(redis, keys, _session(method="teleport"))
