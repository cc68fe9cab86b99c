"""Users and logging in: ``/Users/AuthenticateByName``, ``/Users/Public``, ``/Users/Me``,
``/Users/{id}``, ``/Users``, ``/Sessions/Logout``, ``/Sessions/Capabilities[/Full]``, ``/Sessions``.

Logging in is yaffw's (``yaffw_api.login``: the same rate limits, activity log and password hashes,
so users migrated by ``yaffw migrate-jellyfin`` keep their Jellyfin password); only the token's
lifetime and its device binding differ (see ``jfauth``).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty
from yaffw.errors import Forbidden, NotFound
from yaffw.media.subtitle_pick import JELLYFIN_MODES

from yaffw_api import login
from yaffw_api.auth import User
from yaffw_api.context import deps
from yaffw_api.jellyfin import jfauth
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.server import SERVER_NAME, server_id
from yaffw_api.jellyfin.wire import date, jf_id, now, parse_id, reply
from yaffw_api.params import json_object
from yaffw_api.queries import users as user_queries

bp = Blueprint("jf_users", url_prefix=PREFIX)
JELLYFIN_MODE_OF = {mine: theirs for theirs, mine in JELLYFIN_MODES.items()}

PLAYABLE_MEDIA_TYPES = ["Video"]


def user_dto(row: dict[str, Any], sid: str) -> dict[str, Any]:
    """A yaffw user (``queries.users`` dict) as Jellyfin's ``UserDto``."""
    admin = bool(row["is_admin"])
    return {
        "Name": row["name"], "ServerId": sid, "ServerName": SERVER_NAME, "Id": jf_id(row["id"]),
        "HasPassword": True, "HasConfiguredPassword": True, "HasConfiguredEasyPassword": False,
        "EnableAutoLogin": False, "LastLoginDate": date(row.get("last_login_at")),
        "LastActivityDate": date(row.get("last_login_at")),
        "Configuration": {
            "PlayDefaultAudioTrack": True, "SubtitleLanguagePreference": (row.get("subtitle_languages") or [""])[0],
            "AudioLanguagePreference": (row.get("audio_languages") or [""])[0],
            "DisplayMissingEpisodes": False, "GroupedFolders": [],
            "SubtitleMode": JELLYFIN_MODE_OF.get(row.get("subtitle_mode") or "default", "Default"),
            "DisplayCollectionsView": False, "EnableLocalPassword": False, "OrderedViews": [],
            "LatestItemsExcludes": [], "MyMediaExcludes": [], "HidePlayedInLatest": True,
            "RememberAudioSelections": True, "RememberSubtitleSelections": True,
            "EnableNextEpisodeAutoPlay": True,
        },
        "Policy": {
            "IsAdministrator": admin, "IsHidden": True, "IsDisabled": bool(row["is_disabled"]),
            "EnableCollectionManagement": False, "EnableSubtitleManagement": False, "EnableLyricManagement": False,
            "BlockedTags": [], "AllowedTags": [], "EnableUserPreferenceAccess": True, "AccessSchedules": [],
            "BlockUnratedItems": [], "EnableRemoteControlOfOtherUsers": False, "EnableSharedDeviceControl": False,
            "EnableRemoteAccess": True, "EnableLiveTvManagement": False, "EnableLiveTvAccess": False,
            "EnableMediaPlayback": True, "EnableAudioPlaybackTranscoding": True,
            "EnableVideoPlaybackTranscoding": True, "EnablePlaybackRemuxing": True,
            "ForceRemoteSourceTranscoding": False, "EnableContentDeletion": False,
            "EnableContentDeletionFromFolders": [], "EnableContentDownloading": True,
            "EnableSyncTranscoding": False, "EnableMediaConversion": False, "EnabledDevices": [],
            "EnableAllDevices": True, "EnabledChannels": [], "EnableAllChannels": False,
            "EnabledFolders": [jf_id(x) for x in row.get("library_ids") or []], "EnableAllFolders": admin,
            "InvalidLoginAttemptCount": 0, "LoginAttemptsBeforeLockout": -1, "MaxActiveSessions": 0,
            "EnablePublicSharing": False, "BlockedMediaFolders": [], "BlockedChannels": [],
            "RemoteClientBitrateLimit": 0,
            "AuthenticationProviderId": "Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider",
            "PasswordResetProviderId": "Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider",
            "SyncPlayAccess": "None",
        },
    }  # fmt: skip


def session_info(user_id: str, user_name: str, info: jfauth.ClientInfo, sid: str, session_id: str) -> dict[str, Any]:
    """A ``SessionInfoDto`` for a client's device session (yaffw keeps no other state for it)."""
    return {
        "PlayState": {"CanSeek": False, "IsPaused": False, "IsMuted": False, "RepeatMode": "RepeatNone",
                      "PlaybackOrder": "Default"},
        "AdditionalUsers": [], "Capabilities": {"PlayableMediaTypes": PLAYABLE_MEDIA_TYPES, "SupportedCommands": [],
                                                "SupportsMediaControl": False, "SupportsPersistentIdentifier": True},
        "PlayableMediaTypes": PLAYABLE_MEDIA_TYPES, "Id": session_id, "UserId": jf_id(user_id), "UserName": user_name,
        "Client": info.client or None, "LastActivityDate": now(), "DeviceName": info.device or None,
        "DeviceId": info.device_id or None, "ApplicationVersion": info.version or None, "IsActive": True,
        "SupportsMediaControl": False, "SupportsRemoteControl": False, "NowPlayingQueue": [],
        "NowPlayingQueueFullItems": [], "HasCustomDeviceName": False, "ServerId": sid, "SupportedCommands": [],
    }  # fmt: skip


def _session_id(user_id: str, info: jfauth.ClientInfo) -> str:
    return jfauth.device_key(f"{user_id}:{info.device_id or 'unknown'}")


@bp.post("/users/authenticatebyname")
async def authenticate_by_name(request: Request) -> HTTPResponse:
    """``{Username, Pw}`` → ``{User, SessionInfo, AccessToken, ServerId}``."""
    # Jellyfin reads JSON member names case-insensitively: jellyfin-apiclient-python sends "username".
    body = {str(k).lower(): v for k, v in json_object(request).items()}
    d = deps(request)
    info = jfauth.client_info(request)
    password = body.get("pw", body.get("password"))
    if password is None:
        password = ""  # Jellyfin accepts an empty password field for password-less accounts
    result = await login.login(d, body.get("username"), password, login.client_address(request),
                               ttl=d.settings.device_token_ttl_seconds,
                               device=(info.device_id or "unknown")[: jfauth.MAX_FIELD])  # fmt: skip
    await jfauth.bind_device(d, result.claims, info)
    sid = await server_id(request)
    user_id = str(result.user["id"])
    return reply({
        "User": user_dto(result.user, sid),
        "SessionInfo": session_info(user_id, result.user["name"], info, sid, _session_id(user_id, info)),
        "AccessToken": result.token, "ServerId": sid,
    })  # fmt: skip


@bp.get("/users/public")
async def users_public(request: Request) -> HTTPResponse:
    """No user is listed on the login screen (every yaffw user is hidden): apps ask for a name."""
    return reply([])


async def _user_row(request: Request, user: User, user_id: str | None = None) -> dict[str, Any]:
    d = deps(request)
    assert d.pool is not None
    target = parse_id(user_id, "user") if user_id else user.id
    if target != user.id and not user.is_admin:
        raise NotFound("user not found")
    return await user_queries.get(d.pool, target)


@bp.get("/users/me")
async def users_me(request: Request) -> HTTPResponse:
    """The caller."""
    user = await jfauth.require_user(request)
    return reply(user_dto(await _user_row(request, user), await server_id(request)))


@bp.get("/users/<user_id:str>")
async def users_one(request: Request, user_id: str) -> HTTPResponse:
    """One user: the caller, or anyone for an administrator."""
    user = await jfauth.require_user(request)
    return reply(user_dto(await _user_row(request, user, user_id), await server_id(request)))


@bp.get("/users")
async def users_all(request: Request) -> HTTPResponse:
    """Every user (administrators), else just the caller."""
    user = await jfauth.require_user(request)
    d = deps(request)
    assert d.pool is not None
    sid = await server_id(request)
    rows = await user_queries.list_users(d.pool) if user.is_admin else [await _user_row(request, user)]
    return reply([user_dto(r, sid) for r in rows])


@bp.post("/sessions/logout")
async def logout(request: Request) -> HTTPResponse:
    """Revoke the caller's token on every replica."""
    user = await jfauth.require_user(request)
    await login.logout(deps(request), user)
    return empty()


@bp.post("/sessions/capabilities")
@bp.post("/sessions/capabilities/full", name="capabilities_full")
async def capabilities(request: Request) -> HTTPResponse:
    """Accepted and remembered with the device (yaffw offers no remote control)."""
    user = await jfauth.require_user(request)
    if request.body and request.body.strip():
        json_object(request)  # malformed bodies are refused, well-formed ones need no storage
    await jfauth.remember_device(deps(request), user.id, jfauth.client_info(request))
    return empty()


@bp.get("/sessions")
async def sessions_list(request: Request) -> HTTPResponse:
    """The caller's own device session (yaffw's playback sessions are on ``/api/sessions``)."""
    user = await jfauth.require_user(request)
    info = jfauth.client_info(request)
    sid = await server_id(request)
    if info.device_id == "" and not user.is_admin:
        return reply([])
    return reply([session_info(user.id, user.name, info, sid, _session_id(user.id, info))])


def check_user_param(user: User, value: str | None) -> None:
    """A ``userId`` parameter naming someone else is refused (403, as Jellyfin) unless the caller is an
    administrator. :raises BadInput: for a malformed id."""
    if value and parse_id(value, "user", bad_input=True) != user.id and not user.is_admin:
        raise Forbidden("userId must be the caller")
