"""``GET|POST /Items/{itemId}/PlaybackInfo``: the client's DeviceProfile into yaffw's playback decision,
and a yaffw playback session opened for it (DESIGN §5, §10).

The body is a ``PlaybackInfoDto`` (``DeviceProfile``, ``MaxStreamingBitrate``, ``StartTimeTicks``,
``AudioStreamIndex``, ``MaxAudioChannels``, ``MediaSourceId``, ``EnableDirectPlay``,
``EnableTranscoding``, ``AllowVideoStreamCopy``, ``AllowAudioStreamCopy``...); the same names in the
query win over the body, as in Jellyfin. A GET carries only the query (and so no profile: nothing is
restricted, the file is played directly).

The answer is ``{MediaSources: [one source], PlaySessionId}``: for a film with versions the one played,
the one ``MediaSourceId`` names or (for none, or the item's own id) the best for the client.
``PlaySessionId`` is the yaffw session (lease, progress, admin sessions page, activity and CloudEvent, exactly as ``POST
/api/items/{id}/playback`` opens it). Direct play sets ``SupportsDirectPlay``/``SupportsDirectStream``
(the client fetches ``/Videos/{id}/stream.{Container}?Static=true``); HLS sets a ``TranscodingUrl``
that carries its own credentials (``ApiKey``, a token scoped to ``session:<sid>``), so a player that
fetches only that URL, without headers, plays. An item nothing in the profile can play gets
``ErrorCode: NoCompatibleStream``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw import audio_choice
from yaffw.errors import BadInput, NotFound
from yaffw.media.decision import Decision, pick_source
from yaffw.media.tracks import choose_audio
from yaffw.sessions import PlaybackSession

from yaffw_api.auth import User
from yaffw_api.context import Deps, deps
from yaffw_api.hls import start_prewarm
from yaffw_api.jellyfin import device_profile, jfauth, play_args, wire
from yaffw_api.jellyfin.media_sources import media_source_dto, with_decision, with_subtitle_token
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.users import check_user_param
from yaffw_api.playback_domain import media_token, open_session, playable_item
from yaffw_api.queries import versions
from yaffw_api.subtitles import default_choice

bp = Blueprint("jf_playback_info", url_prefix=PREFIX)

# Numeric and boolean PlaybackInfoDto fields that may also come in the query.
_QUERY_FIELDS = ("MaxStreamingBitrate", "StartTimeTicks", "AudioStreamIndex", "SubtitleStreamIndex",
                 "MaxAudioChannels", "EnableDirectPlay", "EnableDirectStream", "EnableTranscoding",
                 "AllowVideoStreamCopy", "AllowAudioStreamCopy", "AutoOpenLiveStream")  # fmt: skip
SEGMENT_CONTAINER = "ts"
# Words of yaffw's decision reasons → Jellyfin's TranscodeReason names (first match wins per part).
_REASONS = (("video codec", "VideoCodecNotSupported"), ("video profile", "VideoProfileNotSupported"),
            ("video level", "VideoLevelNotSupported"), ("video height", "VideoResolutionNotSupported"),
            ("bitrate", "ContainerBitrateExceedsLimit"), ("container", "ContainerNotSupported"),
            ("audio track", "SecondaryAudioNotSupported"), ("audio codec", "AudioCodecNotSupported"),
            ("audio channels", "AudioChannelsNotSupported"), ("burned in", "SubtitleCodecNotSupported"))  # fmt: skip


def transcode_reasons(reason: str) -> str | None:
    """yaffw's reason text (``"video codec hevc not supported; container mkv not supported"``) as
    Jellyfin's comma-separated ``TranscodeReasons``."""
    names: list[str] = []
    for part in reason.split(";"):
        name = next((n for words, n in _REASONS if words in part), None)
        if name and name not in names:
            names.append(name)
    return ",".join(names) or None


def _flag(fields: dict[str, Any], name: str) -> bool:
    value = play_args.boolean(fields, name)
    return True if value is None else value


def parse_request(fields: dict[str, Any]) -> tuple[device_profile.Request, float]:
    """The decision inputs of a PlaybackInfoDto-like dict (lower-cased keys) and the start in seconds."""
    req = device_profile.Request(
        max_bitrate=play_args.integer(fields, "MaxStreamingBitrate", 1, 2**31 - 1),
        max_audio_channels=play_args.integer(fields, "MaxAudioChannels", 1, 64),
        audio_index=play_args.integer(fields, "AudioStreamIndex", 0, 10_000),
        subtitle_index=_subtitle(fields),
        enable_direct_play=_flag(fields, "EnableDirectPlay"),
        enable_transcoding=_flag(fields, "EnableTranscoding"),
        allow_video_copy=_flag(fields, "AllowVideoStreamCopy"),
        allow_audio_copy=_flag(fields, "AllowAudioStreamCopy"),
    )  # fmt: skip
    return req, play_args.ticks_seconds(fields, "StartTimeTicks") or 0.0


# Jellyfin's SubtitleProfile.Format names of the image subtitle codecs.
_IMAGE_FORMATS = {"hdmv_pgs_subtitle": ("pgssub", "pgs"), "dvd_subtitle": ("dvdsub", "vobsub"),
                  "dvb_subtitle": ("dvbsub",), "xsub": ("xsub",)}  # fmt: skip


def client_renders(profile: Any, streams: list[dict[str, Any]], index: int | None) -> bool:
    """True when the DeviceProfile's ``SubtitleProfiles`` say the client shows image subtitle
    ``index`` itself (``Method: Embed``): then it is not burned in."""
    stream = next((s for s in streams if s.get("stream_index") == index), None)
    names = _IMAGE_FORMATS.get((stream or {}).get("codec") or "")
    if not names or not isinstance(profile, Mapping) or not isinstance(profile.get("SubtitleProfiles"), list):
        return False
    return any(isinstance(p, Mapping) and str(p.get("Format") or "").lower() in names
               and str(p.get("Method") or "").lower() == "embed" for p in profile["SubtitleProfiles"])  # fmt: skip


def _subtitle(fields: dict[str, Any]) -> int | None:
    """``SubtitleStreamIndex`` (-1, Jellyfin's "none", is None)."""
    index = play_args.integer(fields, "SubtitleStreamIndex", -1, 10_000)
    return None if index is None or index < 0 else index


def client_label(request: Request) -> str:
    """How the admin sessions page names a Jellyfin client (``Jellyfin Web 10.11.0 on Chrome``)."""
    info = jfauth.client_info(request)
    label = f"{info.client} {info.version}".strip()
    if info.device:
        label = f"{label} on {info.device}" if label else info.device
    return label or request.headers.get("user-agent", "")


def credential_query(request: Request) -> str | None:
    """The credential already in the query (``ApiKey`` or ``api_key``), if any."""
    return wire.arg(request, "ApiKey") or wire.arg(request, "api_key")


def transcoding_url(d: Deps, user: User, item: dict[str, Any], session: PlaybackSession, decision: Decision,
                    streams: list[dict[str, Any]], device_id: str, *, source_id: str | None = None) -> str:  # fmt: skip
    """Jellyfin's ``TranscodingUrl`` for an HLS session: ``/videos/{id}/master.m3u8?…`` with the
    ``PlaySessionId`` and a token scoped to that session (``ApiKey``). ``source_id``: the version
    of the film played (default the item's own file)."""
    item_hex = wire.jf_id(item["id"]) or ""
    video = decision.video
    source_video = next((s for s in streams if s.get("type") == "video"), {})
    source_audio = next((s for s in streams if s.get("stream_index") == decision.audio_index), {})
    source_hex = wire.jf_id(source_id) if source_id else item_hex
    query: dict[str, Any] = {"DeviceId": device_id or None, "MediaSourceId": source_hex}
    query["VideoCodec"] = video["codec"] if isinstance(video, dict) else source_video.get("codec")
    query["AudioCodec"] = decision.audio["codec"] if isinstance(decision.audio, dict) else source_audio.get("codec")
    query["AudioStreamIndex"] = decision.audio_index
    if isinstance(video, dict):
        query["VideoBitrate"] = video.get("bitrate")
        query["MaxHeight"] = video.get("height")
    if isinstance(decision.audio, dict):
        query["AudioBitrate"] = decision.audio.get("bitrate")
        query["TranscodingMaxAudioChannels"] = decision.audio.get("channels")
    if decision.burn_subtitle is not None:
        query["SubtitleStreamIndex"] = decision.burn_subtitle
        query["SubtitleMethod"] = "Encode"
    query.update({"SegmentContainer": SEGMENT_CONTAINER, "MinSegments": 1, "PlaySessionId": session.sid,
                  "ApiKey": media_token(d, user, f"session:{session.sid}", item["duration_seconds"]),
                  "TranscodeReasons": transcode_reasons(decision.reason)})  # fmt: skip
    clean = {k: v for k, v in query.items() if v is not None and v != ""}
    return f"/videos/{item_hex}/master.m3u8?{urlencode(clean)}"


@bp.route("/items/<item_id:str>/playbackinfo", methods=["GET", "POST"])
async def playback_info(request: Request, item_id: str) -> HTTPResponse:
    """Decide how the caller plays the item, open a yaffw session, answer ``PlaybackInfoResponse``."""
    user = await jfauth.require_user(request)
    d = deps(request)
    fields = play_args.body(request) if request.method == "POST" else {}
    check_user_param(user, wire.arg(request, "userId") or play_args.string(fields, "UserId", 64))
    fields = play_args.merged(request, fields, _QUERY_FIELDS)
    req, start = parse_request(fields)
    profile = device_profile.check(fields.get("deviceprofile"))
    iid = wire.parse_id(item_id)
    source_id = wire.arg(request, "MediaSourceId") or play_args.string(fields, "MediaSourceId", 64)
    # The item's own id (what clients send by default) lets yaffw pick the film's best version.
    requested = wire.parse_id(source_id, "media source") if source_id else None
    requested = None if requested == iid else requested
    try:
        item, streams = await playable_item(d, user, iid)
    except BadInput as exc:
        if exc.code != "not_playable":
            raise
        return wire.reply({"MediaSources": [], "ErrorCode": "NoCompatibleStream"})
    sources = await versions.versions(d.pool, item, streams)
    saved_audio, languages = await audio_choice.default_audio(d.pool, user.id, str(item["id"]))

    def attempt(row: dict[str, Any], s: list[dict[str, Any]]) -> tuple[Decision, Any]:
        # Without AudioStreamIndex: the caller's remembered track, else preferred language, else default.
        chosen = (
            req
            if req.audio_index is not None
            else replace(req, audio_index=choose_audio(s, saved=saved_audio, languages=languages))
        )
        if client_renders(profile, s, req.subtitle_index):
            chosen = replace(chosen, subtitle_index=None)
        return device_profile.choose(profile, row, s, chosen)

    try:
        index, (decision, caps) = pick_source(sources, attempt, lambda r: r[0], requested)
    except BadInput as exc:
        if exc.code == "bad_source":
            raise NotFound("media source not found") from exc
        if exc.code != "not_playable":
            raise
        no_way = with_decision(media_source_dto(sources[0][0], streams, show_path=user.is_admin),
                               direct_play=False, transcoding_url=None)  # fmt: skip
        return wire.reply({"MediaSources": [no_way], "ErrorCode": "NoCompatibleStream"})
    played, streams = sources[index]
    if req.audio_index is not None and req.audio_index != saved_audio:
        await audio_choice.remember(d.pool, user.id, str(item["id"]), req.audio_index)
    source = media_source_dto(played, streams, show_path=user.is_admin)
    with_subtitle_token(source, media_token(d, user, f"item:{played['id']}", played["duration_seconds"]))
    if decision.audio_index is not None:
        # The track played (remembered, preferred language or the file's): the client's menu shows it.
        source["DefaultAudioStreamIndex"] = decision.audio_index
    # The subtitle the client starts with: remembered, else the preferences (yaffw.media.subtitle_pick); -1 off.
    shown = req.subtitle_index if req.subtitle_index is not None else decision.burn_subtitle
    if shown is None:
        audio = next((x["language"] for x in streams if x.get("stream_index") == decision.audio_index), None)
        shown = await default_choice(d, user, str(item["id"]), streams, audio)
    source["DefaultSubtitleStreamIndex"] = -1 if shown is None else shown
    session = await open_session(d, user, item, decision, max_height=caps.max_height, max_bitrate=caps.max_bitrate,
                                 start_seconds=start, client=client_label(request), source=played)  # fmt: skip
    url = None
    # A client that says it is only asking (IsPlayback=false) gets no encoder started for it.
    if decision.is_hls and (wire.arg(request, "IsPlayback") or "").lower() != "false":
        start_prewarm(request, d, session)
    if decision.is_hls:
        device_id = jfauth.client_info(request).device_id
        url = transcoding_url(d, user, item, session, decision, streams, device_id, source_id=str(played["id"]))
    source = with_decision(source, direct_play=not decision.is_hls, transcoding_url=url)
    return wire.reply({"MediaSources": [source], "PlaySessionId": session.sid})
