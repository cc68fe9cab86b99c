"""``JobPayload`` is typed end to end: targets are frozen dataclasses from the decision to FFmpeg's
arguments, the queue entry keeps the previous release's wire format, and entries that release (and
older ones) wrote still parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from yaffw import sessions
from yaffw.errors import BadInput
from yaffw.media import ffmpeg, hls
from yaffw.queue import AudioTarget, JobPayload, VideoTarget

# A queue entry exactly as the previous release wrote it (its JobPayload.to_json, targets as dicts).
PREVIOUS_RELEASE = (
    '{"sid":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","item_id":"7b0c6a52-3c0e-4a8e-9d55-1f2e3d4c5b6a",'
    '"source_path":"/media/Films/Heat (1995)/Heat.mkv","start_segment":42,"segment_seconds":6,'
    '"video":{"codec":"h264","height":720,"bitrate":4000000},'
    '"audio":{"codec":"aac","channels":6,"bitrate":384000,"stream_index":2},'
    '"hwaccel":"none","created_at":1764990000.25,"audio_index":2,"variant":"720p","burn_subtitle":null}'
)
# Older still: no audio_index / variant / burn_subtitle, and a key a newer producer might add.
OLDER = (
    '{"sid":"s-old","item_id":"i","source_path":"/m/a.mkv","start_segment":0,"segment_seconds":6,'
    '"video":"copy","audio":{"codec":"aac","channels":2,"bitrate":128000,"stream_index":1,"profile":"lc"},'
    '"hwaccel":"none","created_at":1700000000.0,"future_field":1}'
)


def test_previous_release_entry_parses_typed_and_writes_back_the_same():
    job = JobPayload.from_json(PREVIOUS_RELEASE)
    assert job.video == VideoTarget("h264", 720, 4_000_000)
    assert job.audio == AudioTarget("aac", 6, 384_000, 2)
    assert (job.start_segment, job.variant, job.audio_index, job.burn_subtitle) == (42, "720p", 2, None)
    # The wire format is unchanged: what this release writes, the previous one reads as before.
    assert json.loads(job.to_json()) == json.loads(PREVIOUS_RELEASE)
    assert JobPayload.from_json(job.to_json()) == job


def test_older_entries_parse():
    job = JobPayload.from_json(OLDER)
    assert job.video == "copy" and job.copies_video
    assert job.audio == AudioTarget("aac", 2, 128_000, 1)  # the unknown "profile" is ignored
    assert (job.audio_index, job.variant, job.burn_subtitle) == (None, None, None)
    none = JobPayload.from_dict({"sid": "s", "item_id": "i", "source_path": "/m", "video": None, "audio": None})
    assert (none.video, none.audio) == (None, None)


@pytest.mark.parametrize(
    "bad",
    [
        {"video": 5},
        {"video": "vp9"},
        {"audio": ["aac"]},
        {"video": {"codec": "h264", "height": "tall"}},
        {"audio": {"codec": "aac", "channels": {"n": 2}}},
    ],
)
def test_malformed_targets_are_bad_jobs(bad):
    with pytest.raises(BadInput) as exc:
        JobPayload.from_dict({"sid": "s", "item_id": "i", "source_path": "/m", **bad})
    assert exc.value.code == "bad_job"


def test_no_dict_is_left_in_a_job():
    """Targets handed over in their JSON form (a decoded template, a test helper) are typed at once,
    also through at_segment and replace."""
    job = JobPayload(sid="s", item_id="i", source_path="/m", video={"codec": "h264", "height": 480},
                     audio={"codec": "aac", "channels": 2, "bitrate": 96_000, "stream_index": 1})  # fmt: skip
    for j in (job, job.at_segment(3, "480p"), JobPayload.from_json(job.to_json())):
        assert isinstance(j.video, VideoTarget) and isinstance(j.audio, AudioTarget)
    assert job.video.bitrate is None and job.at_segment(3).video == job.video


async def test_session_stores_the_typed_job(redis, keys):
    """The api keeps the session's job template typed: stored as the job's JSON, read back equal."""
    job = JobPayload(sid=sessions.new_sid(), item_id="i", source_path="/m/film.mkv", video=VideoTarget(height=720),
                     audio=AudioTarget(channels=2, bitrate=128_000, stream_index=1), audio_index=1)  # fmt: skip
    s = sessions.PlaybackSession(sid=job.sid, user_id="u", user_name="u", item_id="i", item_name="f",
                                 method="transcode", job=job)  # fmt: skip
    try:
        await sessions.create(redis, keys, s)
        assert json.loads(await redis.hget(keys.session(job.sid), "job")) == job.to_dict()
        got = await sessions.get(redis, keys, job.sid)
        assert got is not None and got.job == job and isinstance(got.job.audio, AudioTarget)
    finally:
        await sessions.delete(redis, keys, job.sid)


def test_typed_job_to_ffmpeg_arguments():
    """From the parsed queue entry to the encoder's arguments with the targets as they are."""
    job = JobPayload.from_json(PREVIOUS_RELEASE)
    source = {"codec": "hevc", "width": 1920, "height": 1080}
    variants = hls.ladder(job, source, {"codec": "ac3", "channels": 6})
    assert variants[0].name == "720p" and variants[0].bitrate == 4_000_000
    spec = ffmpeg.EncodeSpec(source=job.source_path, variant=variants[0], starts=[0.0, 6.0], start_segment=0,
                             out_dir=Path("/s/run"), audio=job.audio, audio_index=job.audio_index,
                             duration=12.0)  # fmt: skip
    argv = ffmpeg.build(spec, ffmpeg.Software())
    i = argv.index("-c:a")
    assert argv[i - 2 : i + 6] == ["-map", "0:2", "-c:a", "aac", "-b:a", "384000", "-ac", "6"]
