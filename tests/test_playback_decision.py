"""Playback decisions over a table of client profiles × the sample files (streams ffprobe'd from the
real files), plus capability parsing and the JobPayload template.
"""

from __future__ import annotations

from typing import Any

import pytest
from yaffw.errors import BadInput
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import container_of, decide

from tests._media_rows import probe

BROWSER_H264 = ["constrained baseline", "baseline", "main", "high"]
# What headless Chromium reports through MSE (shared/notes/transcode-anchors.md).
CHROMIUM = {"containers": ["mp4", "webm"], "video_codecs": ["h264", "av1", "vp9", "vp8"],
            "audio_codecs": ["aac", "opus", "flac", "mp3", "vorbis"], "video_profiles": {"h264": BROWSER_H264},
            "max_video_level": {"h264": 52}, "hls": True}  # fmt: skip
SAFARI = {"containers": ["mp4", "mov"], "video_codecs": ["h264", "hevc"],
          "audio_codecs": ["aac", "ac3", "eac3", "mp3", "flac"], "hls": True}  # fmt: skip
TV = {"containers": ["mp4", "mkv"], "video_codecs": ["h264", "hevc"], "audio_codecs": ["aac", "ac3"],
      "max_audio_channels": 6, "hls": True}  # fmt: skip
TV_STEREO = {**TV, "max_audio_channels": 2}
MOBILE = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_bitrate": 1_000_000,
          "max_height": 720, "hls": True}  # fmt: skip
OLD_PHONE = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "max_height": 240,
             "video_profiles": {"h264": ["constrained baseline", "baseline"]},
             "max_video_level": {"h264": 21}}  # fmt: skip
NO_HLS = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "hls": False}
UNKNOWN: dict[str, Any] = {}

# (client, file, audio_index, expected method, words expected in the reason)
TABLE = [
    ("chromium", "mp4", None, "direct_play", ""),
    ("chromium", "episode", None, "direct_play", ""),
    ("chromium", "mkv", None, "transcode", "video codec hevc not supported"),
    ("chromium", "mkv", 2, "transcode", "audio codec ac3 not supported"),
    ("safari", "mp4", None, "direct_play", ""),
    ("safari", "mkv", None, "direct_stream", "container mkv not supported"),
    ("safari", "mkv", 2, "direct_stream", "container mkv not supported"),
    ("tv", "mp4", None, "direct_play", ""),
    ("tv", "mkv", None, "direct_play", ""),
    ("tv", "mkv", 2, "direct_stream", "audio track 2 is not the file's default"),
    ("tv_stereo", "mkv", 2, "direct_stream", "audio channels 6 above 2"),
    ("mobile", "mp4", None, "transcode", "above 1000000"),
    ("mobile", "mkv", None, "transcode", "video codec hevc not supported"),
    ("old_phone", "mp4", None, "transcode", "video level 30 above 21"),
    ("no_hls", "mp4", None, "direct_play", ""),
    ("unknown", "mp4", None, "direct_play", ""),
    ("unknown", "mkv", None, "transcode", "video codec hevc not supported"),
]
CLIENTS = {"chromium": CHROMIUM, "safari": SAFARI, "tv": TV, "tv_stereo": TV_STEREO, "mobile": MOBILE,
           "old_phone": OLD_PHONE, "no_hls": NO_HLS, "unknown": UNKNOWN}  # fmt: skip


@pytest.fixture(scope="module")
def files(sample_media) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    out = {}
    for name, path in (("mp4", sample_media.mp4), ("mkv", sample_media.mkv), ("episode", sample_media.episodes[0])):
        item, streams = probe(path)
        out[name] = ({**item, "id": f"id-{name}", "path": str(path)}, streams)
    return out


@pytest.mark.parametrize(("client", "file", "audio_index", "method", "reason"), TABLE)
def test_decision_table(files, client, file, audio_index, method, reason) -> None:
    item, streams = files[file]
    d = decide(item, streams, Capabilities.from_json(CLIENTS[client]), audio_index=audio_index)
    assert d.method == method, d.reason
    assert reason in d.reason
    if method == "direct_play":
        assert d.video is None and d.audio is None
    if method == "direct_stream":
        assert d.video == "copy"
    if method == "transcode":
        assert d.video["codec"] == "h264"
    expected_audio = audio_index if audio_index is not None else 1
    assert d.audio_index == expected_audio


def test_audio_is_copied_or_transcoded_as_needed(files) -> None:
    item, streams = files["mkv"]
    # Safari plays AC-3: the French 5.1 track is copied next to the copied HEVC.
    d = decide(item, streams, Capabilities.from_json(SAFARI), audio_index=2)
    assert (d.video, d.audio) == ("copy", "copy")
    # Chromium does not: HEVC → H.264 and AC-3 → AAC, 5.1 kept.
    d = decide(item, streams, Capabilities.from_json(CHROMIUM), audio_index=2)
    assert d.audio == {"codec": "aac", "channels": 6, "bitrate": 384_000, "stream_index": 2}
    assert d.video == {"codec": "h264", "height": 720, "bitrate": 4_000_000}
    # A stereo TV gets the track downmixed, the video copied.
    d = decide(item, streams, Capabilities.from_json(TV_STEREO), audio_index=2)
    assert d.video == "copy" and d.audio["channels"] == 2 and d.audio["codec"] == "aac"


def test_bitrate_and_height_limits_pick_a_rung(files) -> None:
    item, streams = files["mp4"]  # 360p, ~1.86 Mbit/s, AAC ~96 kbit/s
    d = decide(item, streams, Capabilities.from_json(MOBILE))
    assert d.video["height"] == 240 and d.video["bitrate"] <= 1_000_000 - 96_000
    assert d.audio == "copy"
    # The per-request limit applies on top of the client's (none here).
    d = decide(item, streams, Capabilities.from_json(CHROMIUM), max_bitrate=600_000)
    assert d.method == "transcode" and d.video["bitrate"] <= 600_000
    d = decide(item, streams, Capabilities.from_json(OLD_PHONE))
    assert d.video["height"] == 240
    # Never scaled up: a 720p limit on a 360p source keeps 360p.
    d = decide(item, streams, Capabilities.from_json({**MOBILE, "max_bitrate": 1_500_000}))
    assert d.video["height"] == 360


def test_profile_checks() -> None:
    item = {"id": "x", "path": "/m/ten-bit.mp4", "container": "mov,mp4,m4a,3gp,3g2,mj2", "bitrate": 3_000_000}
    streams = [
        {"stream_index": 0, "type": "video", "codec": "h264", "profile": "High 10", "level": 40, "height": 1080},
        {"stream_index": 1, "type": "audio", "codec": "aac", "channels": 2, "is_default": True},
    ]  # fmt: skip
    # Unknown clients are assumed to stop at High (8-bit): 10-bit H.264 is transcoded.
    d = decide(item, streams, Capabilities())
    assert d.method == "transcode" and "profile h264 High 10" in d.reason
    # A client that states High 10 plays it directly.
    d = decide(item, streams, Capabilities.from_json({"video_profiles": {"h264": ["high 10"]}}))
    assert d.method == "direct_play"
    # Constrained Baseline plays on a Main-only decoder; High does not.
    streams[0]["profile"] = "Constrained Baseline"
    assert decide(item, streams, Capabilities.from_json({"video_profiles": {"h264": ["main"]}})).method == "direct_play"
    streams[0]["profile"] = "High"
    assert decide(item, streams, Capabilities.from_json({"video_profiles": {"h264": ["main"]}})).method == "transcode"


def test_refusals(files) -> None:
    item, streams = files["mkv"]
    with pytest.raises(BadInput) as exc:
        decide(item, streams, Capabilities.from_json(NO_HLS))
    assert exc.value.code == "not_playable" and "hevc" in exc.value.message
    with pytest.raises(BadInput) as exc:
        decide(item, streams, Capabilities(), audio_index=0)  # the video stream
    assert exc.value.code == "bad_audio_index"
    with pytest.raises(BadInput):
        decide(item, [], Capabilities())


@pytest.mark.parametrize(
    "raw",
    ["nope", {"containers": "mp4"}, {"max_height": -1}, {"max_bitrate": True}, {"hls": "yes"},
     {"video_profiles": {"h264": "high"}}, {"max_video_level": {"h264": "4.1"}}, {"audio_codecs": [1]}],
)  # fmt: skip
def test_bad_capabilities(raw) -> None:
    with pytest.raises(BadInput):
        Capabilities.from_json(raw)


def test_container_names() -> None:
    assert container_of({"container": "mov,mp4,m4a,3gp,3g2,mj2", "path": "/a/b.mp4"}) == "mp4"
    assert container_of({"container": "mov,mp4,m4a,3gp,3g2,mj2", "path": "/a/b.mov"}) == "mov"
    assert container_of({"container": "matroska,webm", "path": "/a/b.mkv"}) == "mkv"
    assert container_of({"container": "matroska,webm", "path": "/a/b.webm"}) == "webm"
    assert container_of({"container": "mp4", "path": "/a/b"}) == "mp4"
    assert container_of({"container": None, "path": "/a/b.avi"}) == "avi"


def test_job_template(files) -> None:
    item, streams = files["mkv"]
    d = decide(item, streams, Capabilities.from_json(CHROMIUM), audio_index=2)
    job = d.job(sid="s1", item=item, segment_seconds=6, hwaccel="none", created_at=123.0)
    assert job.to_dict() == {
        "sid": "s1", "item_id": "id-mkv", "source_path": item["path"], "start_segment": 0, "segment_seconds": 6,
        "video": d.video, "audio": d.audio, "audio_index": 2, "hwaccel": "none", "created_at": 123.0,
        "variant": None, "burn_subtitle": None,
    }  # fmt: skip
    direct = decide(*files["mp4"], Capabilities.from_json(CHROMIUM))
    assert direct.job(sid="s", item=files["mp4"][0], segment_seconds=6, hwaccel="none", created_at=0) is None
