"""FFmpeg command lines per hardware choice (exact arguments), and the real thing where it can run."""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import av.error
import pytest
from yaffw.errors import BadInput
from yaffw.media import ffmpeg, hls, keyframes

ROOT = Path(__file__).resolve().parents[1]

V720 = hls.Variant("720p", 1280, 720, 4_000_000, 6_128_000, "avc1.64001f,mp4a.40.2")
STARTS = [0.0, 6.0, 12.0, 18.0]
AUDIO = {"codec": "aac", "channels": 2, "bitrate": 128_000, "stream_index": 1}
COMMON_IN = ["-fflags", "+genpts", "-protocol_whitelist", "file", "-i", "/m/film.mkv", "-copyts", "-start_at_zero",
             "-avoid_negative_ts", "disabled", "-muxdelay", "0", "-muxpreload", "0", "-max_muxing_queue_size", "4096",
             "-map", "0:V:0"]  # fmt: skip
RATE = ["-b:v", "4000000", "-maxrate", "6000000", "-bufsize", "12000000"]
KEYS = ["-force_key_frames", "12.000000,18.000000"]
AUDIO_OUT = ["-map", "0:1", "-c:a", "aac", "-b:a", "128000", "-ac", "2"]
SEGMENTER = ["-sn", "-dn", "-f", "segment", "-segment_format", "mpegts", "-segment_times", "12.000000,18.000000",
             "-segment_time_delta", "0.05", "-segment_start_number", "1", "-segment_list", "pipe:1",
             "-segment_list_type", "flat", "/s/run/%d.ts"]  # fmt: skip
HEAD = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning", "-y"]


def _spec(**kw) -> ffmpeg.EncodeSpec:
    base = dict(source="/m/film.mkv", variant=V720, starts=STARTS, start_segment=1, out_dir=Path("/s/run"),
                audio=AUDIO, audio_index=1, audio_source_codec="ac3", duration=20.0)  # fmt: skip
    base.update(kw)
    return ffmpeg.EncodeSpec(**base)


@pytest.mark.parametrize(
    ("name", "decode", "video"),
    [
        ("none", [], ["-vf", "scale=1280:720", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast",
                      "-profile:v", "high", "-sc_threshold", "0", *RATE]),
        ("nvenc", ["-hwaccel", "cuda", "-hwaccel_output_format", "cuda"],
         ["-vf", "format=nv12|cuda,hwupload,scale_cuda=1280:720:format=nv12", "-c:v", "h264_nvenc", "-preset", "p4",
          "-profile:v", "high", "-rc", "vbr", "-no-scenecut", "1", "-forced-idr", "1", *RATE]),
        ("vaapi", ["-hwaccel", "vaapi", "-hwaccel_device", "/dev/dri/renderD129", "-hwaccel_output_format", "vaapi"],
         ["-vf", "format=nv12|vaapi,hwupload,scale_vaapi=w=1280:h=720:format=nv12", "-c:v", "h264_vaapi",
          "-profile:v", "high", *RATE]),
        ("qsv", ["-hwaccel", "qsv", "-qsv_device", "/dev/dri/renderD129", "-hwaccel_output_format", "qsv"],
         ["-vf", "format=nv12|qsv,hwupload=extra_hw_frames=64,scale_qsv=w=1280:h=720:format=nv12", "-c:v",
          "h264_qsv", "-preset", "veryfast", "-profile:v", "high", "-forced_idr", "1", *RATE]),
    ],
)  # fmt: skip
def test_transcode_arguments_per_hwaccel(name, decode, video):
    hw = ffmpeg.hwaccel(name, "/dev/dri/renderD129")
    assert hw.name == name
    assert ffmpeg.build(_spec(), hw) == [*HEAD, *decode, "-ss", "6.000000", *COMMON_IN, *video, *KEYS, *AUDIO_OUT,
                                         *SEGMENTER]  # fmt: skip


def test_unknown_hwaccel_is_refused():
    with pytest.raises(ValueError):
        ffmpeg.hwaccel("cuda-but-misspelt")


def test_copied_video_seeks_between_keyframes_and_copies():
    original = hls.Variant("original", 640, 360, 0, 2_000_000, "hvc1.1.4.L90.B0,ac-3", copy=True)
    kfs = [0.021, 2.021, 4.021, 6.021, 8.021, 10.021, 12.021]
    starts = hls.keyframe_boundaries(kfs, 16.0, 6)
    assert starts == [0.0, 6.021, 12.021]
    argv = ffmpeg.build(_spec(variant=original, starts=starts, keyframes=kfs, audio="copy", duration=16.0),
                        ffmpeg.hwaccel("nvenc"))  # fmt: skip
    # No hardware decoding for a copy, and the seek lands between keyframe 6.021 and the next one.
    assert argv[7:10] == ["-noaccurate_seek", "-ss", "7.021000"]
    assert "-hwaccel" not in argv and "-force_key_frames" not in argv
    assert argv[argv.index("-c:v") + 1] == "copy"
    assert argv[argv.index("-c:a") + 1] == "copy"  # AC-3 goes into MPEG-TS as is
    assert argv[argv.index("-segment_times") + 1] == "12.021000"


def test_audio_that_ts_cannot_carry_is_encoded():
    argv = ffmpeg.build(_spec(audio="copy", audio_source_codec="vorbis", start_segment=0), ffmpeg.Software())
    assert argv[argv.index("-c:a") + 1 :][:5] == ["aac", "-b:a", "192000", "-ac", "2"]
    assert "-ss" not in argv
    last = ffmpeg.build(_spec(start_segment=3), ffmpeg.Software())
    assert last[last.index("-segment_times") + 1] == "99999999"


def test_software_arguments_run_for_real(tmp_path, sample_media):
    """The libx264 command line makes valid segments from a test pattern."""
    src = tmp_path / "src.mkv"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x180:rate=24:duration=8", "-f", "lavfi", "-i", "sine=duration=8",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(src)], check=True)  # fmt: skip
    variant = hls.Variant("180p", 320, 180, 300_000, 500_000, "avc1.64001e,mp4a.40.2")
    spec = ffmpeg.EncodeSpec(source=str(src), variant=variant, starts=[0.0, 4.0], start_segment=0,
                             out_dir=tmp_path, audio=AUDIO, audio_index=1, duration=8.0)  # fmt: skip
    out = subprocess.run(ffmpeg.build(spec, ffmpeg.Software()), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.ts", "1.ts"]


def test_a_restart_drops_copied_audio_before_its_segment(tmp_path):
    """A run from segment 1 seeks to 6 s; the demuxer lands on the keyframe at 4 s. Transcoded video is
    trimmed to 6 s, and copied AAC is too: the segment's audio does not repeat the segment before it."""
    src = tmp_path / "src.mkv"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x180:rate=24:duration=16", "-f", "lavfi", "-i", "sine=duration=16",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "96", "-keyint_min", "96", "-c:a", "aac",
                    str(src)], check=True)  # fmt: skip
    variant = hls.Variant("180p", 320, 180, 300_000, 500_000, "avc1.64001e,mp4a.40.2")
    spec = ffmpeg.EncodeSpec(source=str(src), variant=variant, starts=[0.0, 6.0, 12.0], start_segment=1,
                             out_dir=tmp_path, audio="copy", audio_index=1, audio_source_codec="aac",
                             duration=16.0, end=16.0)  # fmt: skip
    argv = ffmpeg.build(spec, ffmpeg.Software())
    assert argv[argv.index("-bsf:a") + 1] == "noise=drop=lt(pts*tb\\,6.000000)"
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time",
                                      "-of", "json", str(tmp_path / "1.ts")], check=True, capture_output=True,
                                     text=True).stdout)  # fmt: skip
    starts = {st["codec_type"]: float(st["start_time"]) for st in info["streams"]}
    assert abs(starts["video"] - 6.0) < 0.09  # within two frames (the source's B-frame delay)
    assert 6.0 - 0.001 <= starts["audio"] < 6.0 + 0.03, starts  # not the 4 s the demuxer landed on
    # From segment 0 nothing is dropped.
    assert "-bsf:a" not in ffmpeg.build(ffmpeg.EncodeSpec(**{**spec.__dict__, "start_segment": 0}), ffmpeg.Software())


@pytest.fixture
def http_trap() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on loopback that records every request path (a stand-in for an internal
    service a media file would like the server to fetch from)."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_ffmpeg_ffprobe_and_pyav_open_only_local_files(http_trap, tmp_path) -> None:
    """Every way yaffw runs FFmpeg refuses a non-file input (issue 14: -protocol_whitelist)."""
    base, seen = http_trap
    spec = _spec(source=f"{base}/encode.mkv", out_dir=tmp_path)
    out = subprocess.run(ffmpeg.build(spec, ffmpeg.Software()), capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "whitelist" in out.stderr, out.stderr
    with pytest.raises(BadInput):
        asyncio.run(keyframes.probe(f"{base}/keyframes.mkv", timeout=30))
    # PyAV (the scan's probe and stills) opens with the same whitelist.
    with pytest.raises(av.error.FFmpegError):
        av.open(f"{base}/pyav.mkv", container_options=ffmpeg.PYAV_OPTIONS)
    assert seen == []
    for source in [*(ROOT / "lib").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]:
        for call in re.findall(r"av\.open\([^\n]*", source.read_text()):
            assert "PYAV_OPTIONS" in call, f"{source}: {call}"


def _has_gpu() -> bool:
    return os.path.exists("/dev/nvidia0")


@pytest.mark.gpu
@pytest.mark.skipif(not _has_gpu(), reason="needs an NVIDIA GPU (/dev/nvidia0)")
def test_nvenc_arguments_run_for_real(tmp_path):
    """The nvenc command line on a real GPU (loadtests/gpu_check.sh does the same by hand)."""
    src = tmp_path / "src.mkv"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=1280x720:rate=24:duration=8", "-f", "lavfi", "-i", "sine=duration=8",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(src)], check=True)  # fmt: skip
    variant = hls.Variant("720p", 1280, 720, 3_000_000, 5_000_000, "avc1.64001f,mp4a.40.2")
    spec = ffmpeg.EncodeSpec(source=str(src), variant=variant, starts=[0.0, 4.0], start_segment=0,
                             out_dir=tmp_path, audio=AUDIO, audio_index=1, duration=8.0)  # fmt: skip
    out = subprocess.run(ffmpeg.build(spec, ffmpeg.Nvenc()), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.ts", "1.ts"]
