"""Playlist maths: boundaries, the ladder, master and media playlists, keyframe parsing and cache."""

from __future__ import annotations

import uuid

import pytest
from yaffw.media import hls, keyframes
from yaffw.queue import JobPayload

from tests._media_rows import insert_item, make_library

SOURCE_1080 = {"codec": "hevc", "width": 1920, "height": 1080, "profile": "Main 10", "level": 120}
AAC = {"codec": "aac", "bitrate": 128_000, "stream_index": 1}


def _job(**targets: object) -> JobPayload:
    return JobPayload(sid="s", item_id="i", source_path="/m/film.mkv", **targets)


def test_fixed_boundaries_cover_duration():
    assert hls.fixed_boundaries(20.0, 6) == [0.0, 6.0, 12.0, 18.0]
    assert hls.fixed_boundaries(18.0, 6) == [0.0, 6.0, 12.0]
    assert hls.fixed_boundaries(0.5, 6) == [0.0]
    assert hls.durations([0.0, 6.0, 12.0, 18.0], 20.0) == [6.0, 6.0, 6.0, 2.0]


def test_transcoded_streams_start_with_short_segments():
    """Issue 13: a session from the start (JobPayload.short_start) gets a first segment of half a
    second (encoded in a fraction of a full one's time), then doubling up to S, after which every
    boundary is a multiple of S again."""
    starts = hls.boundaries(60.0, 6, None, ramp=True)
    assert hls.durations(starts, 60.0)[:6] == [0.5, 0.5, 1.0, 2.0, 2.0, 6.0]
    assert all(t % 6 == 0 for t in starts[5:]) and len(starts) == 14
    assert hls.ramp(2) == [0.0, 0.5, 1.0] and hls.fixed_boundaries(7, 2, ramp=True) == [0.0, 0.5, 1.0, 2.0, 4.0, 6.0]
    assert hls.boundaries(60.0, 6, [0.0, 6.0, 12.0], ramp=True)[:2] == [0.0, 6.0]  # copied video: keyframes
    assert hls.segment_at(starts, 0.7) == 1 and hls.segment_at(starts, 30.0) == 9


def test_keyframe_boundaries_follow_source_keyframes():
    kfs = [0.021 + 2 * k for k in range(20)]  # every 2 s, the first at 21 ms
    starts = hls.keyframe_boundaries(kfs, 40.02, 6)
    assert starts == [0.0, 6.021, 12.021, 18.021, 24.021, 30.021, 36.021]
    # A last piece shorter than half a segment is merged into the one before it.
    assert hls.keyframe_boundaries(kfs[:16], 32.5, 6) == [0.0, 6.021, 12.021, 18.021, 24.021]
    # Sparse keyframes (every 10 s): segments are as long as the source allows.
    assert hls.keyframe_boundaries([0, 10, 20, 30], 40, 6) == [0.0, 10.0, 20.0, 30.0]
    assert hls.boundaries(40, 6, None) == hls.fixed_boundaries(40, 6)


def test_segment_at_and_playlist():
    starts = [0.0, 6.0, 12.0]
    assert [hls.segment_at(starts, t) for t in (0, 5.99, 6, 13, 99, -1)] == [0, 0, 1, 2, 2, 0]
    text = hls.media_playlist(starts, 14.5, lambda n: f"{n}.ts?token=t")
    assert text.splitlines() == [
        "#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:6", "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD", "#EXTINF:6.000000,", "0.ts?token=t", "#EXTINF:6.000000,", "1.ts?token=t",
        "#EXTINF:2.500000,", "2.ts?token=t", "#EXT-X-ENDLIST",
    ]  # fmt: skip


def test_ladder_caps_at_source_and_client():
    job = _job(video={"codec": "h264", "height": 720, "bitrate": 4_000_000}, audio=AAC)
    variants = hls.ladder(job, SOURCE_1080, {"codec": "ac3"})
    assert [(v.name, v.width, v.height, v.bitrate) for v in variants] == [
        ("720p", 1280, 720, 4_000_000), ("480p", 854, 480, 2_000_000), ("360p", 640, 360, 1_000_000)]  # fmt: skip
    assert variants[0].bandwidth == 6_000_000 + 128_000
    assert variants[0].codecs == "avc1.64001f,mp4a.40.2"
    # The client's limit and a source smaller than the job's height both cap the top.
    capped = hls.ladder(job, SOURCE_1080, None, max_height=480)
    assert [v.name for v in capped] == ["480p", "360p", "240p"]
    small = hls.ladder(job, {"codec": "hevc", "width": 640, "height": 360}, None)
    assert [v.name for v in small] == ["360p", "240p"]
    text = hls.master_playlist(variants, lambda v: f"{v.name}/index.m3u8")
    assert '#EXT-X-STREAM-INF:BANDWIDTH=6128000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"' in text
    assert text.splitlines()[4] == "720p/index.m3u8"


def test_copied_video_is_one_original_variant():
    job = _job(video="copy", audio="copy")
    h264 = {"codec": "h264", "width": 1280, "height": 720, "profile": "High", "level": 31}
    (v,) = hls.ladder(job, h264, {"codec": "ac3", "bitrate": 384_000}, source_bitrate=3_000_000)
    assert (v.name, v.copy, v.codecs, v.bandwidth) == ("original", True, "avc1.64001f,ac-3", 3_384_000)
    (v,) = hls.ladder(job, SOURCE_1080, None)
    assert v.codecs.startswith("hvc1.2.4.L120")


def test_keyframe_parse():
    text = "0.021000,K_\n0.063000,__\n2.021000,K_\nN/A,K_\n\n2.021000,K_\n1.5,K\n"
    assert keyframes.parse(text) == [0.021, 1.5, 2.021]


async def test_keyframes_probed_once_and_cached(clean_db, sample_media):
    lib = await make_library(clean_db, sample_media.movies, name=f"kf-{uuid.uuid4().hex[:6]}")
    item = await insert_item(clean_db, lib, sample_media.mp4)
    header = await clean_db.fetchval("SELECT header_hash FROM media_items WHERE id = $1", item)
    times = await keyframes.get(clean_db, item, header, str(sample_media.mp4))
    assert times[:4] == [0.0, 2.0, 4.0, 6.0] and len(times) == 15  # -g 48 at 24 fps over 30 s
    # Cached: the stored list is returned even if the file could no longer be read.
    assert await keyframes.get(clean_db, item, header, "/nonexistent") == times
    # A new file version (other header hash) is probed again.
    with pytest.raises(Exception, match="keyframes could not be read"):
        await keyframes.get(clean_db, item, "other-hash", "/nonexistent")


def test_a_first_run_within_the_ramp_starts_at_zero():
    """A session resumed inside the first S seconds encodes from 0 (one continuous run through the
    ramp); past it, from the segment holding the position."""
    starts = hls.fixed_boundaries(60.0, 6, ramp=True)
    assert hls.job_start(starts, 2.02, 6) == 0 and hls.job_start(starts, 5.9, 6) == 0
    assert hls.job_start(starts, 6.0, 6) == 5 and hls.job_start(starts, 30.5, 6) == 9
    assert hls.job_start([0.0, 6.0, 12.0], 7.0, 6) == 1  # copied video: keyframe boundaries
