"""Which version of a film plays, and a film in parts (issue 16): :func:`yaffw.media.decision.pick_source`
and :func:`~yaffw.media.decision.decide` on database-like rows. Pure, no services."""

from __future__ import annotations

from typing import Any

import pytest
from yaffw.errors import BadInput
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import decide, pick_source

from tests.test_playback_decision import CHROMIUM, NO_HLS


def _version(id_: str, container: str, codec: str, height: int, bitrate: int) -> tuple[dict[str, Any], list]:
    row = {"id": id_, "path": f"/m/Film - {id_}.{container}", "container": container, "bitrate": bitrate,
           "duration_seconds": 100.0}  # fmt: skip
    streams = [
        {"stream_index": 0, "type": "video", "codec": codec, "profile": "High", "level": 40, "height": height},
        {"stream_index": 1, "type": "audio", "codec": "aac", "channels": 2, "is_default": True},
    ]
    return row, streams


def _pick(sources, caps: dict, requested: str | None = None) -> tuple[str, str]:
    c = Capabilities.from_json(caps)
    index, decision = pick_source(sources, lambda row, s: decide(row, s, c), lambda d: d, requested)
    return sources[index][0]["id"], decision.method


UHD_HEVC = _version("uhd-hevc", "mkv", "hevc", 2160, 40_000_000)
HD_H264 = _version("hd-h264", "mp4", "h264", 1080, 8_000_000)
SD_H264 = _version("sd-h264", "mp4", "h264", 480, 2_000_000)
HD_MKV = _version("hd-mkv", "mkv", "h264", 1080, 8_000_000)
SD_HEVC = _version("sd-hevc", "mkv", "hevc", 480, 1_500_000)


def test_the_best_version_that_plays_directly_wins() -> None:
    assert _pick([UHD_HEVC, SD_H264, HD_H264], CHROMIUM) == ("hd-h264", "direct_play")
    # A TV that decodes HEVC in MKV plays the 4K file as it is.
    tv = {"containers": ["mp4", "mkv"], "video_codecs": ["h264", "hevc"], "audio_codecs": ["aac"], "hls": True}
    assert _pick([SD_H264, UHD_HEVC, HD_H264], tv) == ("uhd-hevc", "direct_play")


def test_else_copied_video_then_the_cheapest_transcode() -> None:
    # No MP4 here: the H.264 MKV's picture is copied (direct stream) rather than any transcode.
    assert _pick([UHD_HEVC, HD_MKV, SD_HEVC], CHROMIUM) == ("hd-mkv", "direct_stream")
    # Only HEVC: the smallest picture is the least work.
    assert _pick([UHD_HEVC, SD_HEVC], CHROMIUM) == ("sd-hevc", "transcode")


def test_the_version_asked_for_plays_and_an_unknown_one_is_refused() -> None:
    assert _pick([UHD_HEVC, HD_H264], CHROMIUM, requested="uhd-hevc") == ("uhd-hevc", "transcode")
    with pytest.raises(BadInput) as exc:
        _pick([UHD_HEVC, HD_H264], CHROMIUM, requested="nope")
    assert exc.value.code == "bad_source"


def test_versions_nothing_plays_give_the_first_error() -> None:
    # Without HLS only direct play would do; the HEVC versions cannot.
    assert _pick([UHD_HEVC, HD_H264], NO_HLS) == ("hd-h264", "direct_play")
    with pytest.raises(BadInput) as exc:
        _pick([UHD_HEVC, SD_HEVC], NO_HLS)
    assert exc.value.code == "not_playable"


def test_a_film_in_parts_never_plays_directly() -> None:
    row, streams = HD_H264
    joined = {**row, "part_count": 2}
    decision = decide(joined, streams, Capabilities.from_json(CHROMIUM))
    assert decision.method == "transcode" and "film in 2 parts" in decision.reason
    assert isinstance(decision.video, dict) and decision.video["codec"] == "h264"
    with pytest.raises(BadInput):
        decide(joined, streams, Capabilities.from_json(NO_HLS))
