"""What Jellyfin clients call that yaffw does not have (Live TV, SyncPlay, plugins, music, people,
collections, recommendations, intros, media segments...), answered as Jellyfin answers when the feature
is empty or off: an empty list or result, ``IsEnabled: false``. Server administration is yaffw's own
(``/admin``): the read-only pages Jellyfin's dashboard opens answer for administrators (libraries are
listed as Jellyfin's virtual folders) and are refused (403) for everyone else, as in Jellyfin.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw.errors import NotFound

from yaffw_api.access import visible_item
from yaffw_api.auth import User
from yaffw_api.context import deps
from yaffw_api.jellyfin import dto, jfauth
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.server import SERVER_NAME, server_id
from yaffw_api.jellyfin.users import check_user_param
from yaffw_api.jellyfin.wire import arg, arg_int, jf_id, now, parse_id, query_result, reply
from yaffw_api.queries import libraries as library_queries

bp = Blueprint("jf_unsupported", url_prefix=PREFIX)

_VF_COLLECTION_TYPES = {"movies": "movies", "shows": "tvshows", "mixed": "mixed"}
_CULTURES = [
    ("English", "en", "eng"), ("French", "fr", "fra"), ("German", "de", "deu"), ("Spanish", "es", "spa"),
    ("Italian", "it", "ita"), ("Dutch", "nl", "nld"), ("Portuguese", "pt", "por"), ("Japanese", "ja", "jpn"),
]  # fmt: skip
_COUNTRIES = [
    ("US", "United States", "USA"), ("GB", "United Kingdom", "GBR"), ("FR", "France", "FRA"),
    ("DE", "Germany", "DEU"), ("ES", "Spain", "ESP"), ("IT", "Italy", "ITA"), ("NL", "Netherlands", "NLD"),
    ("JP", "Japan", "JPN"), ("CA", "Canada", "CAN"), ("AU", "Australia", "AUS"),
]  # fmt: skip


async def _user(request: Request) -> User:
    user = await jfauth.require_user(request)
    check_user_param(user, arg(request, "userId"))
    return user


async def _admin(request: Request) -> User:
    """The caller, if an administrator. :raises Forbidden: otherwise (Jellyfin's ``RequiresElevation``)."""
    user = await jfauth.require_admin(request)
    check_user_param(user, arg(request, "userId"))
    return user


def _paging(request: Request) -> int:
    """Check ``StartIndex`` / ``Limit`` like the real lists do; the start index to echo."""
    arg_int(request, "Limit", None)
    return arg_int(request, "StartIndex", 0) or 0


# --------------------------------------------------------------------------- empty lists and results


@bp.get("/livetv/channels")
@bp.get("/livetv/programs", name="livetv_programs")
@bp.post("/livetv/programs", name="livetv_programs_post")
@bp.get("/livetv/programs/recommended", name="livetv_recommended")
@bp.get("/livetv/recordings", name="livetv_recordings")
@bp.get("/studios", name="studios")
@bp.get("/genres", name="genres")
@bp.get("/persons", name="persons")
@bp.get("/artists", name="artists")
@bp.get("/artists/albumartists", name="album_artists")
@bp.get("/musicgenres", name="music_genres")
@bp.get("/channels", name="channels")
@bp.get("/trailers", name="trailers")
@bp.get("/years", name="years")
@bp.get("/items/suggestions", name="suggestions")
async def empty_result(request: Request) -> HTTPResponse:
    """No Live TV, channels, people, studios, genres-as-items, music or trailers: an empty result."""
    await _user(request)
    return query_result([], 0, _paging(request))


@bp.get("/livetv/timers")
async def livetv_timers(request: Request) -> HTTPResponse:
    """No recording timers."""
    await _user(request)
    return query_result([], 0, 0)


@bp.get("/livetv/info")
async def livetv_info(request: Request) -> HTTPResponse:
    """Live TV is off."""
    await _user(request)
    return reply({"Services": [], "IsEnabled": False, "EnabledUsers": []})


@bp.get("/livetv/guideinfo")
async def livetv_guide(request: Request) -> HTTPResponse:
    """An empty guide window."""
    await _user(request)
    return reply({"StartDate": now(), "EndDate": now()})


@bp.get("/syncplay/list")
@bp.get("/movies/recommendations", name="movie_recommendations")
async def empty_array(request: Request) -> HTTPResponse:
    """No SyncPlay groups, no recommendations: a bare empty array."""
    await _user(request)
    return reply([])


async def _visible(request: Request, item_id: str, user_id: str | None = None) -> str:
    """The canonical id of an item (or library) the caller can see. :raises NotFound:"""
    user = await _user(request)
    check_user_param(user, user_id)
    pool = deps(request).pool
    assert pool is not None
    item_id = parse_id(item_id)
    try:
        await visible_item(pool, user, item_id, "i.id")
    except NotFound:
        await library_queries.get(pool, user, item_id)  # raises NotFound unless a visible library
    return item_id


@bp.get("/items/<item_id:str>/intros")
@bp.get("/users/<user_id:str>/items/<item_id:str>/intros", name="intros_legacy")
async def intros(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """No intros (pre-rolls) before an item."""
    await _visible(request, item_id, user_id)
    return query_result([], 0, 0)


@bp.get("/mediasegments/<item_id:str>")
async def media_segments(request: Request, item_id: str) -> HTTPResponse:
    """No intro/outro segments are known."""
    await _visible(request, item_id)
    return query_result([], 0, 0)


# --------------------------------------------------------------------------- localization


@bp.get("/localization/cultures")
async def cultures(request: Request) -> HTTPResponse:
    """A few languages for metadata and subtitle preferences."""
    await _user(request)
    return reply([
        {"Name": name, "DisplayName": name, "TwoLetterISOLanguageName": two, "ThreeLetterISOLanguageName": three,
         "ThreeLetterISOLanguageNames": [three]}
        for name, two, three in _CULTURES
    ])  # fmt: skip


@bp.get("/localization/countries")
async def countries(request: Request) -> HTTPResponse:
    """A few countries for metadata preferences."""
    await _user(request)
    return reply([
        {"Name": two, "DisplayName": name, "TwoLetterISORegionName": two, "ThreeLetterISORegionName": three}
        for two, name, three in _COUNTRIES
    ])  # fmt: skip


@bp.get("/localization/parentalratings")
async def parental_ratings(request: Request) -> HTTPResponse:
    """yaffw keeps no parental ratings."""
    await _user(request)
    return reply([])


@bp.get("/localization/options")
async def localization_options(request: Request) -> HTTPResponse:
    """The interface languages a client may offer."""
    await _user(request)
    return reply([{"Name": "English", "Value": "en-US"}])


# --------------------------------------------------------------------------- administration (read only)


@bp.get("/library/virtualfolders")
async def virtual_folders(request: Request) -> HTTPResponse:
    """The libraries as Jellyfin's virtual folders (administrators)."""
    user = await _admin(request)
    pool = deps(request).pool
    assert pool is not None
    return reply([
        {"Name": lib["name"], "Locations": lib.get("paths") or [],
         "CollectionType": _VF_COLLECTION_TYPES.get(lib["kind"]), "ItemId": jf_id(lib["id"]),
         "RefreshStatus": "Idle"}
        for lib in await library_queries.list_visible(pool, user)
    ])  # fmt: skip


@bp.get("/library/mediafolders")
async def media_folders(request: Request) -> HTTPResponse:
    """The libraries as ``CollectionFolder`` items (administrators)."""
    user = await _admin(request)
    pool = deps(request).pool
    assert pool is not None
    sid = await server_id(request)
    opts = dto.DtoOptions(is_admin=True)
    folders = [dto.library_dto(lib, sid, opts) for lib in await library_queries.list_visible(pool, user)]
    return query_result(folders, len(folders), 0)


@bp.get("/library/physicalpaths")
async def physical_paths(request: Request) -> HTTPResponse:
    """Every library path (administrators)."""
    user = await _admin(request)
    pool = deps(request).pool
    assert pool is not None
    libraries = await library_queries.list_visible(pool, user)
    return reply([path for lib in libraries for path in lib.get("paths") or []])


@bp.get("/startup/configuration")
async def startup_configuration(request: Request) -> HTTPResponse:
    """Setup is done (yaffw has no wizard); administrators may read what it would show."""
    await _admin(request)
    return reply({"ServerName": SERVER_NAME, "UICulture": "en-US", "MetadataCountryCode": "US",
                  "PreferredMetadataLanguage": "en"})  # fmt: skip


@bp.get("/plugins")
@bp.get("/packages", name="packages")
@bp.get("/repositories", name="repositories")
@bp.get("/scheduledtasks", name="scheduled_tasks")
async def admin_empty_array(request: Request) -> HTTPResponse:
    """No plugins, packages, repositories or scheduled tasks (administrators)."""
    await _admin(request)
    return reply([])


@bp.get("/devices")
async def devices(request: Request) -> HTTPResponse:
    """Devices are not listed (administrators): yaffw's sessions page shows who plays what."""
    await _admin(request)
    return query_result([], 0, 0)


def _providers(kind: str) -> list[dict[str, Any]]:
    return [{"Name": "Default", "Id": f"Jellyfin.Server.Implementations.Users.Default{kind}Provider"}]


@bp.get("/auth/providers")
async def auth_providers(request: Request) -> HTTPResponse:
    """The one authentication provider: yaffw's own passwords (administrators)."""
    await _admin(request)
    return reply(_providers("Authentication"))


@bp.get("/auth/passwordresetproviders")
async def password_reset_providers(request: Request) -> HTTPResponse:
    """The default password reset provider (administrators)."""
    await _admin(request)
    return reply(_providers("PasswordReset"))
