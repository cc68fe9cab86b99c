"""``MediaSourceInfo`` and ``MediaStream``: a playable yaffw item (a file, or a film's versions) and its
streams as Jellyfin describes them. Item detail and ``Fields=MediaSources`` use :func:`media_sources`; PlaybackInfo adds
its decision (direct play, transcoding URL) on top of the same dicts.
"""

from __future__ import annotations

import hashlib
from typing import Any

from yaffw.media import subtitles
from yaffw.media.decision import container_of

from yaffw_api.jellyfin.wire import jf_id, ticks

_STREAM_TYPES = {"video": "Video", "audio": "Audio", "subtitle": "Subtitle", "data": "Data"}
_TEXT_SUBTITLES = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "vtt", "mov_text", "text", "ttml"})
_CHANNEL_NAMES = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}


def _display_title(stream: dict[str, Any]) -> str:
    """A short label as Jellyfin shows it in track menus (``English - AAC - Stereo``, ``1080p H264``)."""
    kind = stream.get("type")
    codec = (stream.get("codec") or "").upper()
    parts: list[str] = []
    if kind == "video":
        height = stream.get("height")
        parts = [f"{height}p" if height else "", codec]
        return " ".join(p for p in parts if p) or "Video"
    if stream.get("title"):
        parts.append(str(stream["title"]))
    elif stream.get("language"):
        parts.append(str(stream["language"]))
    if codec:
        parts.append(codec)
    if kind == "audio" and stream.get("channels"):
        parts.append(_CHANNEL_NAMES.get(stream["channels"], f"{stream['channels']} ch"))
    if stream.get("is_default"):
        parts.append("Default")
    return " - ".join(parts) or (kind or "unknown").capitalize()


def media_stream_dto(stream: dict[str, Any]) -> dict[str, Any] | None:
    """A yaffw stream (``queries.items`` stream dict) as ``MediaStream``; ``None`` for attachments."""
    kind = _STREAM_TYPES.get(stream.get("type") or "")
    if kind is None:
        return None
    codec = stream.get("codec")
    text_sub = kind == "Subtitle" and (codec or "").lower() in _TEXT_SUBTITLES
    frame_rate = stream.get("frame_rate")
    out: dict[str, Any] = {
        "Codec": codec, "Language": stream.get("language"), "Title": stream.get("title"),
        "DisplayTitle": _display_title(stream), "Profile": stream.get("profile"), "Type": kind,
        "Index": _index(stream), "IsDefault": bool(stream.get("is_default")),
        "IsForced": bool(stream.get("is_forced")), "IsHearingImpaired": False,
        "IsExternal": bool(stream.get("is_external")), "IsInterlaced": False, "BitRate": stream.get("bitrate"),
        "IsTextSubtitleStream": text_sub, "SupportsExternalStream": text_sub,
    }  # fmt: skip
    if kind == "Video":
        width, height = stream.get("width"), stream.get("height")
        out.update({
            "Width": width, "Height": height, "BitDepth": stream.get("bit_depth"),
            "PixelFormat": stream.get("pixel_format"), "Level": stream.get("level"),
            "AverageFrameRate": frame_rate, "RealFrameRate": frame_rate, "VideoRange": "SDR",
            "VideoRangeType": "SDR", "IsAVC": (codec or "").lower() == "h264",
            "AspectRatio": _aspect(width, height),
        })  # fmt: skip
    elif kind == "Audio":
        channels = stream.get("channels")
        out.update({
            "Channels": channels, "ChannelLayout": stream.get("channel_layout") or _CHANNEL_NAMES.get(channels or 0),
            "SampleRate": stream.get("sample_rate"), "AudioSpatialFormat": "None",
        })  # fmt: skip
    return out


def _index(stream: dict[str, Any]) -> int:
    """The stream's index: ``index`` in ``queries.items`` dicts, ``stream_index`` in table rows."""
    return int(stream.get("index", stream.get("stream_index")) or 0)


def etag(item: dict[str, Any]) -> str:
    """An opaque tag of the item's file version (Jellyfin clients repeat it as ``Tag=`` in stream URLs)."""
    seed = f"{item.get('id')}:{item.get('size')}:{item.get('mtime')}:{item.get('path')}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def _aspect(width: int | None, height: int | None) -> str | None:
    if not width or not height:
        return None
    from math import gcd

    g = gcd(width, height)
    return f"{width // g}:{height // g}"


def media_source_dto(item: dict[str, Any], streams: list[dict[str, Any]], server_id: str | None = None,
                     *, show_path: bool = False) -> dict[str, Any]:  # fmt: skip
    """The one ``MediaSourceInfo`` of a playable item (``queries.items.get``-like dict with ``streams``).

    ``Path`` is a server path: only shown to administrators (``show_path``).
    """
    dtos = [d for d in (media_stream_dto(s) for s in streams) if d is not None]
    for dto in dtos:
        if dto["Type"] != "Subtitle":
            continue
        if subtitles.is_text(dto["Codec"]):
            # Served by yaffw_api.jellyfin.subtitles as WebVTT; PlaybackInfo adds a token for it.
            dto["DeliveryMethod"] = "External"
            dto["DeliveryUrl"] = (
                f"/Videos/{jf_id(item['id'])}/{jf_id(item['id'])}/Subtitles/{dto['Index']}/0/Stream.vtt"
            )
            dto["IsExternalUrl"] = False
        else:
            dto["DeliveryMethod"] = "Encode"  # pictures are burned in by a transcode
    audio = [s for s in streams if s.get("type") == "audio"]
    default_audio = next((s for s in audio if s.get("is_default")), audio[0] if audio else None)
    subtitle_default = next((s for s in streams if s.get("type") == "subtitle" and s.get("is_default")), None)
    path = item.get("path")
    name = path.rsplit("/", 1)[-1].rsplit(".", 1)[0] if path else item.get("name")
    name = item.get("version_label") or name  # a film's version: its label ("1080p", "Director's Cut")
    return {
        "Protocol": "File", "Id": jf_id(item["id"]), "Path": path if show_path else None, "Type": "Default",
        "Container": container_of(item) if item.get("container") or path else None, "Size": item.get("size"),
        "Name": name, "IsRemote": False,
        "ETag": etag(item), "RunTimeTicks": ticks(item.get("duration_seconds")), "ReadAtNativeFramerate": False,
        "IgnoreDts": False, "IgnoreIndex": False, "GenPtsInput": False, "SupportsTranscoding": True,
        "SupportsDirectStream": True, "SupportsDirectPlay": True, "IsInfiniteStream": False,
        "UseMostCompatibleTranscodingProfile": False, "RequiresOpening": False, "RequiresClosing": False,
        "RequiresLooping": False, "SupportsProbing": True, "VideoType": "VideoFile", "MediaStreams": dtos,
        "MediaAttachments": [], "Formats": [], "Bitrate": item.get("bitrate"), "RequiredHttpHeaders": {},
        "DefaultAudioStreamIndex": _index(default_audio) if default_audio else None,
        "DefaultSubtitleStreamIndex": _index(subtitle_default) if subtitle_default else None,
        "HasSegments": False,
    }  # fmt: skip


def media_sources(item: dict[str, Any], streams: list[dict[str, Any]], server_id: str | None = None,
                  *, show_path: bool = False) -> list[dict[str, Any]]:  # fmt: skip
    """The item's media sources: its file, then the film's other versions when it has some
    (``item["versions"]``: ``(row, streams)`` pairs, see :mod:`yaffw_api.queries.versions`). Each
    source's ``Id`` is its file's row; PlaybackInfo's ``MediaSourceId`` picks one."""
    own = media_source_dto(item, streams, server_id, show_path=show_path)
    others = [media_source_dto(row, s, server_id, show_path=show_path) for row, s in item.get("versions") or ()]
    return [own, *others]


def with_decision(source: dict[str, Any], *, direct_play: bool, transcoding_url: str | None) -> dict[str, Any]:
    """``source`` as PlaybackInfo answers it after yaffw's decision: direct play (the client fetches
    ``/Videos/{id}/stream``, so direct stream too) or HLS through ``transcoding_url``.
    """
    hls = transcoding_url is not None
    return {
        **source, "SupportsDirectPlay": direct_play, "SupportsDirectStream": direct_play,
        "SupportsTranscoding": hls, "TranscodingUrl": transcoding_url,
        "TranscodingSubProtocol": "hls" if hls else None, "TranscodingContainer": "ts" if hls else None,
    }  # fmt: skip


def with_subtitle_token(source: dict[str, Any], token: str) -> None:
    """Give each text subtitle's ``DeliveryUrl`` in ``source`` the ``ApiKey`` (scoped to the file) that
    lets a player fetch it without headers, as PlaybackInfo answers it."""
    for dto in source.get("MediaStreams") or []:
        url = dto.get("DeliveryUrl")
        if url and "?" not in url:
            dto["DeliveryUrl"] = f"{url}?ApiKey={token}"
