"""FFmpeg arguments for one encoder run of an HLS session (DESIGN §5).

One run makes MPEG-TS segments ``start_segment, start_segment+1, ...`` of one variant with FFmpeg's
segment muxer. What keeps segments of different runs (after a seek, a restart or a failover to
another worker) on one timeline:

- ``-copyts -start_at_zero -avoid_negative_ts disabled -muxdelay 0``: output timestamps are the
  source's (from 0), so segment ``n`` starts at its playlist time whichever run made it;
- ``-segment_times`` lists the absolute boundaries, ``-segment_start_number`` numbers the files;
- transcoded video gets keyframes forced on exactly those times (``-force_key_frames``), copied
  video is cut on the source keyframes the boundaries were chosen from;
- ``-segment_list pipe:1``: FFmpeg prints each segment's file name once it is complete.

The hardware choice (``YAFFW_HWACCEL``) changes only decoding, scaling and the video encoder: one
:class:`HwAccel` per choice.

Audio keeps its channel count (AAC carries up to 7.1) unless the job asks for fewer: surround is
down-mixed only for a client that said it takes fewer channels. An image subtitle chosen for the
session (PGS, VobSub, DVB: pictures, not text) is burned in: ``-filter_complex`` scales the video
and the subtitle's canvas to the output size and overlays one on the other. Hardware paths decode
on the GPU into CPU memory, overlay there, then upload the frames to their encoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from yaffw.media.hls import Variant, output_audio_codec
from yaffw.media.tracks import aac_channels
from yaffw.queue import COPY, Audio, audio_target

# Audio codecs MPEG-TS can carry; anything else (Vorbis, FLAC, PCM, ...) is re-encoded to AAC.
TS_AUDIO = frozenset({"aac", "mp3", "mp2", "ac3", "eac3", "opus"})
AAC_BITRATE_PER_CHANNEL = 64_000
# A burned-in subtitle is read from this long before a seek point, so a caption already on screen
# there is shown (its display set was sent when it appeared).
SUBTITLE_PREROLL = 30.0
# A segment list needs at least one time; this one is never reached.
_NO_MORE_CUTS = "99999999"


class HwAccel(Protocol):
    """Decode, scale and encode arguments of one hardware choice."""

    @property
    def name(self) -> str:
        """The ``YAFFW_HWACCEL`` value this choice answers to."""
        ...

    def decode_args(self) -> list[str]:
        """Input options placed before ``-i`` (hardware decoding)."""
        ...

    def video_args(self, width: int, height: int, bitrate: int) -> list[str]:
        """Filter and encoder options producing H.264 High at ``width``x``height``, ``bitrate`` b/s."""
        ...

    def burn_decode_args(self) -> list[str]:
        """Input options when a subtitle is burned in: decoded frames come to CPU memory."""
        ...

    def burn_video_args(self, width: int, height: int, bitrate: int, subtitle: str) -> list[str]:
        """``-filter_complex`` overlaying ``subtitle`` (a stream specifier, ``1:3``) on the video, its
        ``-map`` and the encoder options (as :meth:`video_args`)."""
        ...


def burn_graph(width: int, height: int, subtitle: str, tail: str = "") -> str:
    """The filter graph that burns ``subtitle`` (``input:stream``) into the first video stream at
    ``width``x``height``, ending in ``[v]``; ``tail`` (``,hwupload...``) follows the overlay.

    The subtitle's canvas is the picture size it was authored for (a PGS canvas is the film's
    frame), so scaling it to the output size puts every caption where it belongs at any rung.
    ``eof_action=pass``: the video goes on when the subtitle stream ends; sub2video sends blank
    frames between captions, so the overlay never waits for one.
    """
    return (f"[0:V:0]scale={width}:{height}[main];[{subtitle}]scale={width}:{height}[sub];"
            f"[main][sub]overlay=eof_action=pass{tail}[v]")  # fmt: skip


def _rate(bitrate: int) -> list[str]:
    # Peak 1.5x the average (the master playlist's BANDWIDTH says so); a 2 s buffer at that peak.
    return ["-b:v", str(bitrate), "-maxrate", str(bitrate * 3 // 2), "-bufsize", str(bitrate * 3)]


@dataclass(frozen=True)
class Software:
    """libx264 on the CPU (``none``): what the tests run end to end."""

    name: str = "none"
    preset: str = "veryfast"

    def decode_args(self) -> list[str]:
        return []

    def video_args(self, width: int, height: int, bitrate: int) -> list[str]:
        return ["-vf", f"scale={width}:{height}", *self._encoder(bitrate)]

    def burn_decode_args(self) -> list[str]:
        return []

    def burn_video_args(self, width: int, height: int, bitrate: int, subtitle: str) -> list[str]:
        return ["-filter_complex", burn_graph(width, height, subtitle), "-map", "[v]", *self._encoder(bitrate)]

    def _encoder(self, bitrate: int) -> list[str]:
        # sc_threshold 0: no scene-cut keyframes between the forced ones (they would not hurt the
        # cuts, but cost bits); yuv420p: 10-bit sources become 8-bit, which every player decodes.
        return ["-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", self.preset, "-profile:v", "high",
                "-sc_threshold", "0", *_rate(bitrate)]  # fmt: skip


@dataclass(frozen=True)
class Nvenc:
    """NVIDIA: CUDA decoding, ``scale_cuda``, ``h264_nvenc``; frames stay in GPU memory."""

    name: str = "nvenc"
    preset: str = "p4"

    def decode_args(self) -> list[str]:
        return ["-hwaccel", "cuda", "-hwaccel_output_format", "cuda"]

    def video_args(self, width: int, height: int, bitrate: int) -> list[str]:
        # format=nv12|cuda,hwupload: frames the decoder could not keep on the GPU (software
        # fallback) are uploaded; scale_cuda's format=nv12 turns 10-bit into 8-bit for H.264.
        # forced-idr: a forced keyframe must be an IDR or the segment muxer cannot cut there.
        return ["-vf", f"format=nv12|cuda,hwupload,scale_cuda={width}:{height}:format=nv12", *self._encoder(bitrate)]

    def burn_decode_args(self) -> list[str]:
        # CUDA decoding without -hwaccel_output_format: frames are copied to CPU memory for the
        # overlay; the named device is the one hwupload_cuda sends them back to.
        return ["-init_hw_device", "cuda=gpu", "-filter_hw_device", "gpu", "-hwaccel", "cuda", "-hwaccel_device",
                "gpu"]  # fmt: skip

    def burn_video_args(self, width: int, height: int, bitrate: int, subtitle: str) -> list[str]:
        graph = burn_graph(width, height, subtitle, ",format=nv12,hwupload_cuda")
        return ["-filter_complex", graph, "-map", "[v]", *self._encoder(bitrate)]

    def _encoder(self, bitrate: int) -> list[str]:
        return ["-c:v", "h264_nvenc", "-preset", self.preset, "-profile:v", "high", "-rc", "vbr", "-no-scenecut", "1",
                "-forced-idr", "1", *_rate(bitrate)]  # fmt: skip


@dataclass(frozen=True)
class Vaapi:
    """Intel/AMD through VA-API: ``scale_vaapi``, ``h264_vaapi`` (no presets)."""

    device: str = "/dev/dri/renderD128"
    name: str = "vaapi"

    def decode_args(self) -> list[str]:
        return ["-hwaccel", "vaapi", "-hwaccel_device", self.device, "-hwaccel_output_format", "vaapi"]

    def video_args(self, width: int, height: int, bitrate: int) -> list[str]:
        return ["-vf", f"format=nv12|vaapi,hwupload,scale_vaapi=w={width}:h={height}:format=nv12",
                *self._encoder(bitrate)]  # fmt: skip

    def burn_decode_args(self) -> list[str]:
        # VA-API decoding into CPU memory (no -hwaccel_output_format); the same device takes the
        # overlaid frames back for the encoder.
        return ["-init_hw_device", f"vaapi=gpu:{self.device}", "-filter_hw_device", "gpu", "-hwaccel", "vaapi",
                "-hwaccel_device", "gpu"]  # fmt: skip

    def burn_video_args(self, width: int, height: int, bitrate: int, subtitle: str) -> list[str]:
        graph = burn_graph(width, height, subtitle, ",format=nv12,hwupload")
        return ["-filter_complex", graph, "-map", "[v]", *self._encoder(bitrate)]

    def _encoder(self, bitrate: int) -> list[str]:
        return ["-c:v", "h264_vaapi", "-profile:v", "high", *_rate(bitrate)]


@dataclass(frozen=True)
class Qsv:
    """Intel Quick Sync: ``scale_qsv``, ``h264_qsv``."""

    device: str = "/dev/dri/renderD128"
    name: str = "qsv"
    preset: str = "veryfast"

    def decode_args(self) -> list[str]:
        return ["-hwaccel", "qsv", "-qsv_device", self.device, "-hwaccel_output_format", "qsv"]

    def video_args(self, width: int, height: int, bitrate: int) -> list[str]:
        return ["-vf", f"format=nv12|qsv,hwupload=extra_hw_frames=64,scale_qsv=w={width}:h={height}:format=nv12",
                *self._encoder(bitrate)]  # fmt: skip

    def burn_decode_args(self) -> list[str]:
        # Quick Sync decoding into CPU memory; the QSV device takes the overlaid frames back.
        return ["-init_hw_device", f"qsv=gpu:hw_any,child_device={self.device}", "-filter_hw_device", "gpu",
                "-hwaccel", "qsv", "-hwaccel_device", "gpu"]  # fmt: skip

    def burn_video_args(self, width: int, height: int, bitrate: int, subtitle: str) -> list[str]:
        graph = burn_graph(width, height, subtitle, ",format=nv12,hwupload=extra_hw_frames=64")
        return ["-filter_complex", graph, "-map", "[v]", *self._encoder(bitrate)]

    def _encoder(self, bitrate: int) -> list[str]:
        return ["-c:v", "h264_qsv", "-preset", self.preset, "-profile:v", "high", "-forced_idr", "1",
                *_rate(bitrate)]  # fmt: skip


def hwaccel(name: str, device: str | Path = "/dev/dri/renderD128") -> HwAccel:
    """The :class:`HwAccel` for ``settings.hwaccel`` (``device``: the VA-API/QSV render node).

    :raises ValueError: for an unknown name.
    """
    if name == "none":
        return Software()
    if name == "nvenc":
        return Nvenc()
    if name == "vaapi":
        return Vaapi(str(device))
    if name == "qsv":
        return Qsv(str(device))
    raise ValueError(f"unknown hwaccel {name!r}")


@dataclass(frozen=True)
class EncodeSpec:
    """What one encoder run makes.

    ``starts`` are every segment's start time (from :func:`yaffw.media.hls.boundaries`),
    ``keyframes`` the source keyframes (copied video only), ``audio`` the job's audio
    (``"copy"``, ``None`` or an :class:`~yaffw.queue.AudioTarget`), ``audio_source_*`` the
    chosen source track's codec and channels (a copy MPEG-TS cannot carry is encoded keeping them),
    ``burn_subtitle`` the input stream index of an image subtitle to burn in (transcoded video only),
    ``burn_path`` its sidecar file (a VobSub ``.idx``) when it is not a stream of ``source``.
    """

    source: str
    variant: Variant
    starts: Sequence[float]
    start_segment: int
    out_dir: Path
    audio: Audio = COPY
    audio_index: int | None = None
    audio_source_codec: str | None = None
    audio_source_channels: int | None = None
    burn_subtitle: int | None = None
    burn_path: str | None = None
    has_video: bool = True
    keyframes: Sequence[float] = field(default_factory=tuple)
    duration: float = 0.0
    # Where the playlist's timeline ends (the video's last frame, :mod:`yaffw.media.timeline`): every
    # stream stops there, so audio that runs on past the picture does not lengthen the last segment.
    end: float | None = None
    concat: bool = False  # ``source`` is an ffconcat list of a film's parts, read as one input

    def __post_init__(self) -> None:
        # Audio given in its JSON form becomes typed, so the arguments below read attributes only.
        object.__setattr__(self, "audio", audio_target(self.audio))


def _t(seconds: float) -> str:
    return f"{seconds:.6f}"


def _seek(spec: EncodeSpec) -> list[str]:
    n = spec.start_segment
    if n == 0:
        return []
    start = spec.starts[n]
    if not spec.variant.copy or not spec.has_video:
        return ["-ss", _t(start)]  # accurate seek: frames before `start` are decoded and dropped
    # Copied video starts on a keyframe. Seeking exactly to one may land on the keyframe before it
    # (rounding), so aim between it and the next keyframe: the demuxer goes back to ours.
    after = [k for k in spec.keyframes if k > start + 1e-3]
    target = (start + after[0]) / 2 if after else (start + max(spec.duration, start + 0.2)) / 2
    return ["-noaccurate_seek", "-ss", _t(target)]


def _copied_audio_from(spec: EncodeSpec) -> list[str]:
    """A run from segment ``n > 0`` drops copied audio packets before the segment's start. The seek
    lands the demuxer on the video keyframe before it and copied packets are not trimmed (decoded ones
    are): the segment's audio would begin up to a GOP early, repeating the end of the segment before
    it (``tail_hevc``'s segment 5 spanned 6.23 s for its 6 s). ``pts*tb`` is the output's clock, the
    one ``starts`` are on (``-copyts -start_at_zero``)."""
    if spec.start_segment == 0:
        return []
    return ["-bsf:a", f"noise=drop=lt(pts*tb\\,{_t(spec.starts[spec.start_segment])})"]


def _audio(spec: EncodeSpec) -> list[str]:
    if spec.audio is None:
        return ["-an"]
    mapping = ["-map", f"0:{spec.audio_index}"] if spec.audio_index is not None else ["-map", "0:a:0?"]
    if spec.audio == COPY:
        if (spec.audio_source_codec or "aac") in TS_AUDIO:
            return [*mapping, "-c:a", "copy", *_copied_audio_from(spec)]
        # The client takes the source's channels (or the decision would not copy): keep them.
        channels = aac_channels(spec.audio_source_channels)
        rate = max(96_000 * min(channels, 2), AAC_BITRATE_PER_CHANNEL * channels)  # 192 kb/s stereo, 384 kb/s 5.1
        return [*mapping, "-c:a", "aac", "-b:a", str(rate), "-ac", str(channels)]
    codec = output_audio_codec(spec.audio.codec)
    encoder = "libmp3lame" if codec == "mp3" else "aac"
    channels = 2 if codec == "mp3" else aac_channels(spec.audio.channels)
    return [*mapping, "-c:a", encoder, "-b:a", str(int(spec.audio.bitrate or 128_000)), "-ac", str(channels)]


# The only protocol any input may use. FFmpeg already confines what a local playlist (HLS, concat,
# SDP) may open to local files, but not the top-level input: a source that is, or is made into, a
# URL (``http:``, ``tcp:``, ``rtmp:``…) would make the server fetch it. Nested opens inherit this
# list. Used by every FFmpeg/ffprobe command line and every PyAV open (:data:`PYAV_OPTIONS`).
INPUT_PROTOCOLS = "file"
INPUT_OPTIONS = ["-protocol_whitelist", INPUT_PROTOCOLS]
PYAV_OPTIONS = {"protocol_whitelist": INPUT_PROTOCOLS}


def build(spec: EncodeSpec, hw: HwAccel) -> list[str]:
    """The full FFmpeg command line (``argv``) for ``spec`` on ``hw``."""
    v = spec.variant
    transcode = spec.has_video and not v.copy
    burn = spec.burn_subtitle if transcode else None
    cuts = [_t(t) for t in spec.starts[spec.start_segment + 1 :]]
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-loglevel", "warning", "-y"]
    if burn is not None:
        args += hw.burn_decode_args()
    elif transcode:
        args += hw.decode_args()
    # A film's parts are one input (concat demuxer): timestamps run on across the parts. -safe 0:
    # the list names absolute paths (from the database); they are still opened as files only.
    concat = ["-f", "concat", "-safe", "0"] if spec.concat else []
    args += [*_seek(spec), "-fflags", "+genpts", *INPUT_OPTIONS, *concat, "-i", spec.source]
    subtitle = f"0:{burn}"
    if burn is not None and (spec.start_segment > 0 or spec.burn_path):
        # After a seek the subtitle comes from a second reading that starts earlier: a caption
        # shown across the seek point is on screen from the first frame. Both readings keep the
        # source's clock (-copyts), which is what the overlay pairs frames by. A sidecar (VobSub
        # .idx, whose .sub FFmpeg opens beside it) is that second input, read from its start.
        preroll = max(0.0, spec.starts[spec.start_segment] - SUBTITLE_PREROLL)
        seek = ["-ss", _t(preroll)] if spec.start_segment > 0 else []
        if spec.burn_path:
            args += [*seek, *INPUT_OPTIONS, "-i", spec.burn_path]
            subtitle = "1:0"
        else:
            args += [*seek, *INPUT_OPTIONS, *concat, "-i", spec.source]
            subtitle = f"1:{burn}"
    args += ["-copyts", "-start_at_zero", "-avoid_negative_ts", "disabled", "-muxdelay", "0", "-muxpreload", "0",
             "-max_muxing_queue_size", "4096"]  # fmt: skip
    if burn is not None:
        args += hw.burn_video_args(v.width, v.height, v.bitrate, subtitle)
        args += ["-force_key_frames", ",".join(cuts) if cuts else _t(spec.starts[spec.start_segment])]
    elif spec.has_video:
        args += ["-map", "0:V:0"]
        if transcode:
            args += hw.video_args(v.width, v.height, v.bitrate)
            args += ["-force_key_frames", ",".join(cuts) if cuts else _t(spec.starts[spec.start_segment])]
        else:
            args += ["-c:v", "copy"]
    else:
        args += ["-vn"]
    args += _audio(spec)
    if spec.end:
        args += ["-to", _t(spec.end)]  # output option: with -copyts it is a time on the source's clock
    args += ["-sn", "-dn", "-f", "segment", "-segment_format", "mpegts", "-segment_times",
             ",".join(cuts) if cuts else _NO_MORE_CUTS, "-segment_time_delta", "0.05",
             "-segment_start_number", str(spec.start_segment), "-segment_list", "pipe:1",
             "-segment_list_type", "flat", str(spec.out_dir / "%d.ts")]  # fmt: skip
    return args
