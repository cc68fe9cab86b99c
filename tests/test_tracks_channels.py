"""Surround audio through real FFmpeg (issue 13): the decision for a client, its job's arguments,
one segment made and ffprobed. 5.1 stays 5.1 and 7.1 stays 7.1 when the client takes them (AC-3 a
browser cannot play becomes AAC 5.1; FLAC that MPEG-TS cannot carry becomes AAC 5.1 on the copy
path) and becomes stereo only when the client says ``max_audio_channels: 2``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from yaffw.media import ffmpeg, hls
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import decide

from tests._media_rows import probe
from tests.transcode_support import _make_once, ffprobe_json, make_h264_ac3

BROWSER = {"containers": ["mp4"], "video_codecs": ["h264"], "audio_codecs": ["aac", "opus", "flac"], "hls": True}


def _flac(folder: Path, channels: int) -> Path:
    """H.264 with FLAC of ``channels`` channels in Matroska, 4 s (made once)."""
    return _make_once(
        folder / f"flac{channels}.mkv",
        "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=24:duration=4",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "24", "-c:a", "flac",
        "-ac", str(channels),
    )  # fmt: skip


def _first_segment(path: Path, caps: dict, out: Path) -> tuple[dict, dict]:
    """Decide for ``caps``, run the job's FFmpeg for segment 0, return (decision audio, ffprobe'd audio)."""
    item, streams = probe(path)
    item = {**item, "id": "x", "path": str(path)}
    d = decide(item, streams, Capabilities.from_json(caps))
    assert d.method == "direct_stream", d.reason
    source_audio = next(s for s in streams if s["stream_index"] == d.audio_index)
    variant = hls.Variant("original", 0, 0, 0, 2_000_000, "", copy=True)
    spec = ffmpeg.EncodeSpec(
        source=str(path), variant=variant, starts=[0.0, 100.0], start_segment=0, out_dir=out, audio=d.audio,
        audio_index=d.audio_index, audio_source_codec=source_audio["codec"],
        audio_source_channels=source_audio["channels"], duration=float(item["duration_seconds"]),
    )  # fmt: skip
    out.mkdir(parents=True)
    run = subprocess.run(ffmpeg.build(spec, ffmpeg.Software()), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    info = ffprobe_json(out / "0.ts", "-show_streams")
    return d.audio, next(s for s in info["streams"] if s["codec_type"] == "audio")


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("max_channels", "channels"), [(None, 6), (6, 6), (2, 2)])
def test_ac3_51_is_encoded_keeping_its_channels_unless_fewer_are_asked(sample_media, tmp_path, max_channels,
                                                                        channels) -> None:  # fmt: skip
    path = make_h264_ac3(sample_media.root.parent / f"{sample_media.root.name}-tracks" / "ac3_51.mkv")
    caps = {**BROWSER, "max_audio_channels": max_channels} if max_channels else BROWSER
    job_audio, made = _first_segment(path, caps, tmp_path / "out")
    assert job_audio["codec"] == "aac" and job_audio["channels"] == channels
    assert (made["codec_name"], made["channels"]) == ("aac", channels)


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("max_channels", "channels", "job_audio"), [(None, 6, "copy"), (2, 2, None)])
def test_flac_51_on_the_copy_path_stays_51(sample_media, tmp_path, max_channels, channels, job_audio) -> None:
    path = _flac(sample_media.root.parent / f"{sample_media.root.name}-tracks", 6)
    caps = {**BROWSER, "containers": ["mp4"], "max_audio_channels": max_channels}
    got, made = _first_segment(path, caps, tmp_path / "out")
    if job_audio == "copy":
        assert got == "copy"  # the client takes FLAC 5.1; MPEG-TS does not, so the worker encodes it
    else:
        assert got["channels"] == 2
    assert (made["codec_name"], made["channels"]) == ("aac", channels)


@pytest.mark.timeout(180)
@pytest.mark.parametrize(("max_channels", "channels"), [(None, 8), (6, 6), (2, 2)])
def test_71_is_encoded_as_aac_71(sample_media, tmp_path, max_channels, channels) -> None:
    """A browser without FLAC gets 7.1 FLAC as AAC 7.1 (FFmpeg's encoder writes it), not 5.1."""
    path = _flac(sample_media.root.parent / f"{sample_media.root.name}-tracks", 8)
    caps = {**BROWSER, "audio_codecs": ["aac"], "max_audio_channels": max_channels}
    got, made = _first_segment(path, caps, tmp_path / "out")
    assert got["channels"] == channels
    assert (made["codec_name"], made["channels"]) == ("aac", channels)
