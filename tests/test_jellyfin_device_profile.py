"""Jellyfin DeviceProfiles read as yaffw capabilities (pure): a Jellyfin Web (Chrome) profile, a
Kodi-like "plays everything" one, a Safari-like one that plays HEVC, and the conditions."""

from __future__ import annotations

from typing import Any

import pytest
from yaffw.errors import BadInput
from yaffw_api.jellyfin.device_profile import Request, choose, condition_ok, direct_capabilities, hls_capabilities
from yaffw_api.jellyfin.playback_info import transcode_reasons

_NOT_REQUIRED = {"IsRequired": False}
# What Jellyfin Web 10.11's browserDeviceProfile builds in desktop Chrome (abridged: audio-only
# and subtitle entries kept short).
CHROME: dict[str, Any] = {
    "MaxStreamingBitrate": 120_000_000, "MaxStaticBitrate": 100_000_000, "MusicStreamingTranscodingBitrate": 384_000,
    "DirectPlayProfiles": [
        {"Container": "webm", "Type": "Video", "VideoCodec": "vp8,vp9,av1", "AudioCodec": "vorbis,opus"},
        {"Container": "mp4,m4v", "Type": "Video", "VideoCodec": "h264,vp8,vp9,av1",
         "AudioCodec": "aac,mp3,mp2,opus,flac,vorbis"},
        {"Container": "opus", "Type": "Audio"}, {"Container": "mp3", "Type": "Audio"},
    ],
    "TranscodingProfiles": [
        {"Container": "ts", "Type": "Audio", "AudioCodec": "aac", "Context": "Streaming", "Protocol": "hls",
         "MaxAudioChannels": "2", "MinSegments": 1, "BreakOnNonKeyFrames": True},
        {"Container": "ts", "Type": "Video", "AudioCodec": "aac,mp3", "VideoCodec": "h264", "Context": "Streaming",
         "Protocol": "hls", "MaxAudioChannels": "2", "MinSegments": 1, "BreakOnNonKeyFrames": True},
    ],
    "ContainerProfiles": [],
    "CodecProfiles": [
        {"Type": "VideoAudio", "Codec": "aac", "Conditions": [
            {"Condition": "Equals", "Property": "IsSecondaryAudio", "Value": "false", **_NOT_REQUIRED}]},
        {"Type": "Video", "Codec": "h264", "Conditions": [
            {"Condition": "NotEquals", "Property": "IsAnamorphic", "Value": "true", **_NOT_REQUIRED},
            {"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "high|main|baseline|constrained baseline",
             **_NOT_REQUIRED},
            {"Condition": "EqualsAny", "Property": "VideoRangeType", "Value": "SDR", **_NOT_REQUIRED},
            {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "52", **_NOT_REQUIRED},
            {"Condition": "NotEquals", "Property": "IsInterlaced", "Value": "true", **_NOT_REQUIRED}]},
        {"Type": "Video", "Codec": "vp9", "Conditions": [
            {"Condition": "EqualsAny", "Property": "VideoRangeType", "Value": "SDR|HDR10|HLG", **_NOT_REQUIRED}]},
    ],
    "SubtitleProfiles": [{"Format": "vtt", "Method": "External"}, {"Format": "ass", "Method": "External"}],
}  # fmt: skip
# The Kodi add-on's profile (jellyfin-kodi): everything direct, HLS only as a fallback.
KODI: dict[str, Any] = {
    "Name": "Kodi", "MaxStreamingBitrate": 100_000_000, "MusicStreamingTranscodingBitrate": 1_280_000,
    "DirectPlayProfiles": [{"Type": "Video"}, {"Type": "Audio"}, {"Type": "Photo"}],
    "TranscodingProfiles": [
        {"Type": "Audio"},
        {"Container": "m3u8", "Type": "Video", "AudioCodec": "aac,mp3,ac3,opus,flac,vorbis",
         "VideoCodec": "h264,mpeg4,mpeg2video", "MaxAudioChannels": "6"},
    ],
    "CodecProfiles": [], "ContainerProfiles": [],
    "SubtitleProfiles": [{"Format": "srt", "Method": "External"}, {"Format": "ass", "Method": "External"}],
}  # fmt: skip
# Safari on a Mac: HEVC in MP4, HLS with HEVC allowed to be copied, 1080p at most.
SAFARI: dict[str, Any] = {
    "MaxStreamingBitrate": 40_000_000,
    "DirectPlayProfiles": [
        {"Container": "mp4,m4v,mov", "Type": "Video", "VideoCodec": "h264,hevc", "AudioCodec": "aac,ac3,eac3,mp3"}],
    "TranscodingProfiles": [
        {"Container": "mp4", "Type": "Video", "AudioCodec": "aac,ac3,eac3", "VideoCodec": "hevc,h264",
         "Protocol": "hls", "MaxAudioChannels": "6"}],
    "CodecProfiles": [
        {"Type": "Video", "Codec": "hevc", "Conditions": [
            {"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "main|main 10", **_NOT_REQUIRED},
            {"Condition": "LessThanEqual", "Property": "VideoLevel", "Value": "183", **_NOT_REQUIRED},
            {"Condition": "LessThanEqual", "Property": "Height", "Value": "1080", **_NOT_REQUIRED}]},
        {"Type": "Video", "Codec": "h264", "Conditions": [
            {"Condition": "LessThanEqual", "Property": "Width", "Value": "1920", **_NOT_REQUIRED},
            {"Condition": "LessThanEqual", "Property": "VideoBitDepth", "Value": "8", **_NOT_REQUIRED}]},
    ],
}  # fmt: skip


def _item(path: str, container: str, bitrate: int = 3_000_000) -> dict[str, Any]:
    return {"id": "00000000-0000-0000-0000-000000000001", "path": path, "container": container, "bitrate": bitrate,
            "duration_seconds": 60.0, "name": "x"}  # fmt: skip


def _video(codec: str, profile: str, level: int, width: int = 1920, height: int = 1080, **extra: Any) -> dict:
    return {"stream_index": 0, "type": "video", "codec": codec, "profile": profile, "level": level, "width": width,
            "height": height, **extra}  # fmt: skip


def _audio(index: int, codec: str, channels: int = 2, default: bool = True) -> dict[str, Any]:
    return {"stream_index": index, "type": "audio", "codec": codec, "channels": channels, "is_default": default}


MP4_H264 = (_item("/m/a.mp4", "mov,mp4,m4a,3gp,3g2,mj2"), [_video("h264", "High", 41), _audio(1, "aac")])
MKV_HEVC = (_item("/m/b.mkv", "matroska,webm"), [_video("hevc", "Main", 120), _audio(1, "aac"),
                                                   _audio(2, "ac3", 6, default=False)])  # fmt: skip
MKV_H264_AC3 = (_item("/m/c.mkv", "matroska,webm"), [_video("h264", "High", 40), _audio(1, "ac3", 6)])
MP4_H264_10BIT = (_item("/m/d.mp4", "mov,mp4,m4a,3gp,3g2,mj2"),
                  [_video("h264", "High 10", 51, bit_depth=10), _audio(1, "aac")])  # fmt: skip
MP4_HEVC_4K = (_item("/m/e.mp4", "mov,mp4,m4a,3gp,3g2,mj2", 20_000_000),
               [_video("hevc", "Main", 153, 3840, 2160), _audio(1, "eac3", 6)])  # fmt: skip


def test_chrome_plays_h264_mp4_directly() -> None:
    decision, caps = choose(CHROME, *MP4_H264)
    assert decision.method == "direct_play"
    assert caps.containers == frozenset({"mp4"}) and "h264" in caps.video_codecs
    assert caps.max_video_level["h264"] == 52 and "high" in caps.video_profiles["h264"]
    assert caps.max_bitrate == 100_000_000  # MaxStaticBitrate for the file itself


def test_chrome_transcodes_hevc() -> None:
    assert direct_capabilities(CHROME, *MKV_HEVC) is None  # no mkv direct-play profile
    decision, caps = choose(CHROME, *MKV_HEVC)
    assert decision.method == "transcode" and "video codec hevc not supported" in decision.reason
    assert decision.video["codec"] == "h264" and decision.audio == "copy"
    assert caps.max_audio_channels == 2 and caps.containers == frozenset()
    # The French 5.1 AC-3 track: transcoded to stereo AAC (the TS profile's first codec, 2 channels).
    decision, _ = choose(CHROME, *MKV_HEVC, Request(audio_index=2))
    assert decision.audio == {"codec": "aac", "channels": 2, "bitrate": 128_000, "stream_index": 2}


def test_chrome_direct_streams_h264_with_ac3() -> None:
    decision, _ = choose(CHROME, *MKV_H264_AC3)
    assert decision.method == "direct_stream" and decision.video == "copy"
    assert decision.audio["codec"] == "aac" and decision.audio["channels"] == 2


def test_chrome_refuses_high10_and_request_limits() -> None:
    decision, _ = choose(CHROME, *MP4_H264_10BIT)
    assert decision.method == "transcode" and "profile" in decision.reason
    # A bitrate below the file's: transcoded within it.
    decision, _ = choose(CHROME, *MP4_H264, Request(max_bitrate=1_000_000))
    assert decision.method == "transcode" and decision.video["bitrate"] <= 1_000_000
    # Direct play switched off: HLS, the video copied.
    decision, _ = choose(CHROME, *MP4_H264, Request(enable_direct_play=False))
    assert decision.method == "direct_stream"
    decision, _ = choose(CHROME, *MP4_H264, Request(enable_direct_play=False, allow_video_copy=False))
    assert decision.method == "transcode"
    with pytest.raises(BadInput) as err:
        choose(CHROME, *MKV_HEVC, Request(enable_transcoding=False))
    assert err.value.code == "not_playable"


def test_kodi_plays_everything() -> None:
    for item, streams in (MP4_H264, MKV_HEVC, MKV_H264_AC3, MP4_H264_10BIT, MP4_HEVC_4K):
        decision, _ = choose(KODI, item, streams)
        assert decision.method == "direct_play", (item["path"], decision.reason)
    # Kodi's HLS fallback (legacy m3u8 container) keeps 6 channels.
    hls = hls_capabilities(KODI, *MKV_H264_AC3)
    assert hls is not None and hls.max_audio_channels == 6 and "ac3" in hls.audio_codecs
    # No profile at all: nothing restricted, as in Jellyfin.
    assert choose(None, *MP4_HEVC_4K)[0].method == "direct_play"
    assert choose(None, *MP4_HEVC_4K, Request(enable_direct_play=False))[0].method == "transcode"


def test_safari_hevc_limits() -> None:
    decision, _ = choose(SAFARI, *MKV_HEVC)  # mkv is not direct-played; HEVC may be copied into HLS
    assert decision.method == "direct_stream" and decision.video == "copy"
    decision, caps = choose(SAFARI, *MP4_HEVC_4K)  # 2160p above the HEVC profile's 1080
    assert decision.method == "transcode" and decision.video["height"] <= 1080 and caps.max_height == 1080
    assert decision.audio == "copy"  # E-AC-3 5.1 is fine for Safari
    decision, _ = choose(SAFARI, *MP4_H264_10BIT)  # VideoBitDepth <= 8 fails for 10-bit H.264
    assert decision.method == "transcode"
    caps = direct_capabilities(SAFARI, *MP4_H264)
    assert caps is not None and caps.max_height == 1080  # Width <= 1920 at 16:9


def test_conditions() -> None:
    facts = {"height": 1080, "videoprofile": "High", "isinterlaced": None, "isanamorphic": False}
    assert condition_ok({"Condition": "LessThanEqual", "Property": "Height", "Value": "1080"}, facts)
    assert not condition_ok({"Condition": "GreaterThanEqual", "Property": "Height", "Value": "1440"}, facts)
    assert condition_ok({"Condition": "EqualsAny", "Property": "VideoProfile", "Value": "main|high"}, facts)
    assert not condition_ok({"Condition": "Equals", "Property": "VideoProfile", "Value": "main"}, facts)
    assert condition_ok({"Condition": "NotEquals", "Property": "IsAnamorphic", "Value": "true"}, facts)
    assert condition_ok({"Condition": "Equals", "Property": "IsInterlaced", "Value": "false"}, facts)
    assert not condition_ok({"Condition": "Equals", "Property": "IsInterlaced", "Value": "false",
                             "IsRequired": True}, facts)  # fmt: skip


def test_bad_profiles() -> None:
    for bad in ({"DirectPlayProfiles": "mp4"}, {"DirectPlayProfiles": [{"Container": 5, "Type": "Video"}]},
                {"MaxStreamingBitrate": "fast"}):  # fmt: skip
        with pytest.raises(BadInput):
            choose(bad, *MP4_H264)


def test_transcode_reasons_in_jellyfin_names() -> None:
    decision, _ = choose(CHROME, *MKV_HEVC, Request(audio_index=2))
    assert transcode_reasons(decision.reason) == ("VideoCodecNotSupported,ContainerNotSupported,"
                                                  "SecondaryAudioNotSupported,AudioCodecNotSupported")  # fmt: skip
    assert transcode_reasons("file plays as is") is None
