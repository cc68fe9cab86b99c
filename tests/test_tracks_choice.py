"""Audio tracks, channels and image-subtitle burn-in as decisions and FFmpeg arguments (issue 13):
the default-track rule, surround kept unless the client asks for fewer channels, an image subtitle
forcing a transcode (a text one not), the job carrying it, and the overlay arguments per hardware
choice (software, NVENC, VA-API, QSV; GPUs are not here, so their arguments are what is tested)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from yaffw.errors import BadInput
from yaffw.media import ffmpeg, hls, subtitles
from yaffw.media.capabilities import Capabilities
from yaffw.media.decision import decide
from yaffw.media.tracks import IMAGE_SUBTITLES, channel_layout, check_languages, choose_audio, language_code
from yaffw.queue import JobPayload

V240 = hls.Variant("240p", 426, 240, 400_000, 600_000, "avc1.64001e,mp4a.40.2")
STARTS = [0.0, 4.0, 8.0]
ITEM = {"id": "i", "path": "/m/film.mkv", "container": "matroska,webm", "bitrate": 2_000_000}
CHROMIUM = {"containers": ["mp4", "webm"], "video_codecs": ["h264"], "audio_codecs": ["aac", "opus", "flac"],
            "hls": True}  # fmt: skip


def _streams(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"stream_index": 0, "type": "video", "codec": "h264", "profile": "High", "level": 40, "height": 1080},
        {"stream_index": 1, "type": "audio", "codec": "ac3", "channels": 6, "language": "eng", "is_default": True},
        {"stream_index": 2, "type": "audio", "codec": "aac", "channels": 2, "language": "fre", "is_default": False},
        {"stream_index": 3, "type": "audio", "codec": "eac3", "channels": 8, "language": "ger", "is_default": False},
        *extra,
    ]  # fmt: skip


PGS = {"stream_index": 4, "type": "subtitle", "codec": "hdmv_pgs_subtitle", "language": "eng"}
VOBSUB = {"stream_index": 5, "type": "subtitle", "codec": "dvd_subtitle", "language": "fra"}
SRT = {"stream_index": 6, "type": "subtitle", "codec": "subrip", "language": "eng"}


# --- the default track ------------------------------------------------------------------------


def test_default_track_rule() -> None:
    streams = _streams()
    # Nothing known about the user: the default-flagged track (and the first when none is flagged).
    assert choose_audio(streams) == 1
    assert choose_audio([{**s, "is_default": False} for s in streams]) == 1
    # Preferred languages in order, whatever ISO 639 spelling either side uses.
    assert choose_audio(streams, languages=["fr"]) == 2
    assert choose_audio(streams, languages=["ita", "de", "fra"]) == 3
    assert choose_audio(streams, languages=["ita"]) == 1
    # A remembered choice wins, unless that track is gone (another version of the film).
    assert choose_audio(streams, saved=3, languages=["fra"]) == 3
    assert choose_audio(streams, saved=9, languages=["fra"]) == 2
    assert choose_audio(streams, saved=0) == 1  # the video stream is no audio track
    assert choose_audio([streams[0]]) is None


def test_one_set_of_picture_subtitles() -> None:
    """What the decision burns in is what the subtitle delivery refuses as WebVTT (422)."""
    assert IMAGE_SUBTITLES == subtitles.IMAGE_CODECS


def test_language_codes_and_layouts() -> None:
    assert [language_code(x) for x in ("EN", "eng", "fre", "fr-CA", "und", "", None)] == [
        "eng", "eng", "fra", "fra", None, None, None]  # fmt: skip
    assert check_languages(["fr", "fra", "en-GB", "de"]) == ["fra", "eng", "deu"]
    for bad in ("fr", [1], ["x"], ["<script>"], ["e" * 9], ["en"] * 17):
        with pytest.raises(ValueError):
            check_languages(bad)
    assert [channel_layout(n) for n in (1, 2, 6, 8, 4, None)] == ["Mono", "Stereo", "5.1", "7.1", "4 ch", None]


# --- channels ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "max_channels", "channels"),
    [(1, None, 6), (1, 6, 6), (1, 2, 2), (3, None, 8), (3, 6, 6), (3, 7, 6), (1, 1, 1)],
)  # fmt: skip
def test_surround_is_kept_unless_the_client_asks_for_fewer(index, max_channels, channels) -> None:
    caps = Capabilities.from_json({**CHROMIUM, "max_audio_channels": max_channels})
    d = decide(ITEM, _streams(), caps, audio_index=index)
    assert d.audio["codec"] == "aac" and d.audio["channels"] == channels
    assert d.audio["bitrate"] == channels * 64_000


def test_audio_arguments_keep_channels() -> None:
    spec = dict(source="/m/f.mkv", variant=V240, starts=STARTS, start_segment=0, out_dir=Path("/s"), audio_index=1)

    def audio_args(**kw: Any) -> list[str]:
        argv = ffmpeg.build(ffmpeg.EncodeSpec(**{**spec, **kw}), ffmpeg.Software())
        return argv[argv.index("-c:a") :][:6]

    # Copied audio MPEG-TS cannot carry (FLAC 5.1) becomes AAC 5.1, not stereo.
    assert audio_args(audio="copy", audio_source_codec="flac", audio_source_channels=6) == [
        "-c:a", "aac", "-b:a", "384000", "-ac", "6"]  # fmt: skip
    assert audio_args(audio="copy", audio_source_codec="ac3", audio_source_channels=6)[:2] == ["-c:a", "copy"]
    job_audio = {"codec": "aac", "channels": 8, "bitrate": 512_000, "stream_index": 1}
    assert audio_args(audio=job_audio)[-2:] == ["-ac", "8"]
    assert audio_args(audio={**job_audio, "channels": 2})[-2:] == ["-ac", "2"]
    assert audio_args(audio={**job_audio, "codec": "mp3"})[:2] == ["-c:a", "libmp3lame"]
    assert audio_args(audio={**job_audio, "codec": "mp3"})[-2:] == ["-ac", "2"]


# --- image subtitles ---------------------------------------------------------------------------


def test_image_subtitle_forces_a_transcode_and_travels_in_the_job() -> None:
    streams = _streams(PGS, VOBSUB, SRT)
    caps = Capabilities.from_json({**CHROMIUM, "containers": ["mkv"], "audio_codecs": ["ac3", "aac"]})
    assert decide(ITEM, streams, caps).method == "direct_play"
    # A text subtitle changes nothing (it is delivered as WebVTT beside the video).
    d = decide(ITEM, streams, caps, subtitle_index=6)
    assert (d.method, d.burn_subtitle) == ("direct_play", None)
    for sub in (PGS, VOBSUB):
        d = decide(ITEM, streams, caps, subtitle_index=sub["stream_index"])
        assert d.method == "transcode" and d.burn_subtitle == sub["stream_index"]
        assert f"subtitle {sub['stream_index']} ({sub['codec']}) is burned in" in d.reason
        assert d.audio == "copy" and d.video["codec"] == "h264"
        job = d.job(sid="s", item=ITEM, segment_seconds=4, hwaccel="none", created_at=1.0)
        assert job.burn_subtitle == sub["stream_index"]
        payload = JobPayload.from_dict(job.to_dict())
        assert payload.burn_subtitle == sub["stream_index"]
        assert JobPayload.from_json(payload.at_segment(3).to_json()).burn_subtitle == sub["stream_index"]
    for bad in (0, 1, 99):  # the video, an audio track, nothing
        with pytest.raises(BadInput) as exc:
            decide(ITEM, streams, caps, subtitle_index=bad)
        assert exc.value.code == "bad_subtitle_index"
    for bad in (-1, "x", 1.5, True):
        with pytest.raises(BadInput):
            JobPayload.from_dict({"sid": "s", "item_id": "i", "source_path": "/m", "burn_subtitle": bad})
    assert JobPayload.from_dict({"sid": "s", "item_id": "i", "source_path": "/m"}).burn_subtitle is None


COMMON = ["-copyts", "-start_at_zero", "-avoid_negative_ts", "disabled", "-muxdelay", "0", "-muxpreload", "0",
          "-max_muxing_queue_size", "4096"]  # fmt: skip
GRAPH = "[0:V:0]scale=426:240[main];[{sub}]scale=426:240[sub];[main][sub]overlay=eof_action=pass{tail}[v]"
RATE = ["-b:v", "400000", "-maxrate", "600000", "-bufsize", "1200000"]


@pytest.mark.parametrize(
    ("name", "decode", "tail", "encoder"),
    [
        ("none", [], "", ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
                          "-sc_threshold", "0", *RATE]),
        ("nvenc", ["-init_hw_device", "cuda=gpu", "-filter_hw_device", "gpu", "-hwaccel", "cuda", "-hwaccel_device",
                   "gpu"], ",format=nv12,hwupload_cuda",
         ["-c:v", "h264_nvenc", "-preset", "p4", "-profile:v", "high", "-rc", "vbr", "-no-scenecut", "1",
          "-forced-idr", "1", *RATE]),
        ("vaapi", ["-init_hw_device", "vaapi=gpu:/dev/dri/renderD129", "-filter_hw_device", "gpu", "-hwaccel",
                   "vaapi", "-hwaccel_device", "gpu"], ",format=nv12,hwupload",
         ["-c:v", "h264_vaapi", "-profile:v", "high", *RATE]),
        ("qsv", ["-init_hw_device", "qsv=gpu:hw_any,child_device=/dev/dri/renderD129", "-filter_hw_device", "gpu",
                 "-hwaccel", "qsv", "-hwaccel_device", "gpu"], ",format=nv12,hwupload=extra_hw_frames=64",
         ["-c:v", "h264_qsv", "-preset", "veryfast", "-profile:v", "high", "-forced_idr", "1", *RATE]),
    ],
)  # fmt: skip
def test_burn_in_arguments_per_hwaccel(name, decode, tail, encoder) -> None:
    """The overlay runs on CPU frames (hardware decoding into memory), then they go to the encoder
    (uploaded for the GPU ones); after a seek the subtitle comes from a second, earlier reading."""
    hw = ffmpeg.hwaccel(name, "/dev/dri/renderD129")
    base = dict(source="/m/f.mkv", variant=V240, starts=STARTS, out_dir=Path("/s"), audio="copy", audio_index=1,
                audio_source_codec="aac", burn_subtitle=4)  # fmt: skip
    head = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning", "-y"]
    inp = ["-protocol_whitelist", "file", "-i", "/m/f.mkv"]
    first = ffmpeg.build(ffmpeg.EncodeSpec(start_segment=0, **base), hw)
    assert first[: len(head) + len(decode) + 2 + len(inp)] == [*head, *decode, "-fflags", "+genpts", *inp]
    after = first[len(head) + len(decode) + 2 + len(inp) :]
    assert after[: len(COMMON) + 4] == [*COMMON, "-filter_complex", GRAPH.format(sub="0:4", tail=tail), "-map", "[v]"]
    assert after[len(COMMON) + 4 :][: len(encoder) + 2] == [*encoder, "-force_key_frames", "4.000000,8.000000"]
    assert first.count("-map") == 2 and "0:V:0" not in first[first.index("-map") :]
    assert "-vf" not in first

    seeked = ffmpeg.build(ffmpeg.EncodeSpec(start_segment=2, **base), hw)
    assert seeked[len(head) + len(decode) :][: 4 + len(inp) + 2 + len(inp)] == [
        "-ss", "8.000000", "-fflags", "+genpts", *inp, "-ss", "0.000000", *inp]  # fmt: skip
    assert GRAPH.format(sub="1:4", tail=tail) in seeked
    late = ffmpeg.build(ffmpeg.EncodeSpec(**{**base, "starts": [0.0, 40.0, 80.0]}, start_segment=2), hw)
    assert late[late.index("-ss", late.index("-ss") + 1) + 1] == "50.000000"  # 30 s of subtitle pre-roll

    # Copied video cannot carry a burned-in subtitle: the decision never asks, the arguments ignore it.
    original = hls.Variant("original", 480, 270, 0, 2_000_000, "avc1.640015", copy=True)
    copied = ffmpeg.build(ffmpeg.EncodeSpec(**{**base, "variant": original}, start_segment=0), hw)
    assert "-filter_complex" not in copied and copied[copied.index("-c:v") + 1] == "copy"


def test_sidecar_vobsub_is_its_own_input() -> None:
    """A sidecar VobSub (the ``.idx`` the scan records; FFmpeg reads the ``.sub`` beside it) is a
    second input, sought like the film's own second reading after a seek."""
    base = dict(source="/m/f.mkv", variant=V240, starts=[0.0, 40.0, 80.0], out_dir=Path("/s"), audio="copy",
                audio_index=1, audio_source_codec="aac", burn_subtitle=7, burn_path="/m/f.en.idx")  # fmt: skip
    first = ffmpeg.build(ffmpeg.EncodeSpec(start_segment=0, **base), ffmpeg.Software())
    inputs = [first[i + 1] for i, a in enumerate(first) if a == "-i"]
    assert inputs == ["/m/f.mkv", "/m/f.en.idx"]
    assert first[first.index("/m/f.en.idx") - 3 : first.index("/m/f.en.idx")] == ["-protocol_whitelist", "file", "-i"]
    assert GRAPH.format(sub="1:0", tail="") in first
    seeked = ffmpeg.build(ffmpeg.EncodeSpec(start_segment=2, **base), ffmpeg.Software())
    at = seeked.index("/m/f.en.idx")
    assert seeked[at - 5 : at - 3] == ["-ss", "50.000000"]
    sidecar = {"stream_index": 7, "type": "subtitle", "codec": "dvd_subtitle", "external_path": "/m/f.en.idx"}
    caps = Capabilities.from_json(CHROMIUM)
    d = decide(ITEM, _streams(sidecar), caps, subtitle_index=7)
    assert d.method == "transcode" and d.burn_subtitle == 7
