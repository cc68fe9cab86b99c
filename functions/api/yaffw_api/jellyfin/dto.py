"""``BaseItemDto``: a yaffw item (a ``queries.items`` dict) or library as Jellyfin clients read it.

Jellyfin always sends a few basic fields and adds the rest when a list request names them in
``Fields`` (the detail ``/Items/{id}`` sends everything); :class:`DtoOptions` carries that choice,
plus ``EnableImages`` / ``EnableUserData`` / ``EnableImageTypes`` / ``ImageTypeLimit``. Building a DTO
is pure dict work: every value comes from the item's row (one query for a page, no per-item queries).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sanic import Request

from yaffw_api.auth import User
from yaffw_api.jellyfin import media_sources as ms
from yaffw_api.jellyfin.dto_userdata import user_data_dto
from yaffw_api.jellyfin.wire import arg_bool, arg_int, arg_list, clean, date, jf_id, ticks

KIND_TO_TYPE = {"movie": "Movie", "series": "Series", "season": "Season", "episode": "Episode", "video": "Video"}
TYPE_TO_KIND = {v.lower(): k for k, v in KIND_TO_TYPE.items()}
FOLDER_KINDS = frozenset({"series", "season"})
COLLECTION_TYPES = {"movies": "movies", "shows": "tvshows", "mixed": None}
_IMAGE_TYPES = {"primary": "Primary", "thumb": "Thumb", "backdrop": "Backdrop"}
# yaffw's extra kinds (yaffw.naming) as Jellyfin's ExtraType.
EXTRA_TYPES = {
    "trailer": "Trailer", "featurette": "Featurette", "behind_the_scenes": "BehindTheScenes",
    "deleted_scene": "DeletedScene", "interview": "Interview", "scene": "Scene", "short": "Short", "clip": "Clip",
    "extra": "Unknown", "theme_video": "ThemeVideo",
}  # fmt: skip
_POSTER = 2 / 3
_WIDE = 16 / 9

# Jellyfin's ItemFields, by lower-case name (names are matched case-insensitively, unknown ones skipped).
ITEM_FIELDS = {
    f.lower(): f
    for f in (
        "AirTime", "CanDelete", "CanDownload", "ChannelInfo", "Chapters", "Trickplay", "ChildCount",
        "CumulativeRunTimeTicks", "CustomRating", "DateCreated", "DateLastMediaAdded", "DisplayPreferencesId",
        "Etag", "ExternalUrls", "Genres", "ItemCounts", "MediaSourceCount", "MediaSources", "OriginalTitle",
        "Overview", "ParentId", "Path", "People", "PlayAccess", "ProductionLocations", "ProviderIds",
        "PrimaryImageAspectRatio", "RecursiveItemCount", "Settings", "SeriesStudio", "SortName",
        "SpecialEpisodeNumbers", "Studios", "Taglines", "Tags", "RemoteTrailers", "MediaStreams", "SeasonUserData",
        "DateLastRefreshed", "DateLastSaved", "RefreshState", "ChannelImage", "EnableMediaSourceDisplay", "Width",
        "Height", "ExtraIds", "LocalTrailerCount", "IsHD", "SpecialFeatureCount",
    )
}  # fmt: skip
_ALL_FIELDS = frozenset(ITEM_FIELDS.values())
# Fields whose values need columns a plain page query does not read (plot, container, path...).
DETAIL_FIELDS = frozenset({"Overview", "Path", "MediaSources", "MediaStreams"})
# Clients that Jellyfin gives child counts without asking (DtoExtensions.AddClientFields).
_COUNTING_CLIENTS = ("kodi", "wmc", "media center", "classic", "roku", "samsung", "androidtv")


@dataclass(frozen=True)
class DtoOptions:
    """Which optional parts of a DTO to send (Jellyfin's ``DtoOptions``)."""

    fields: frozenset[str] = frozenset()
    all_fields: bool = False  # item detail: everything
    user_data: bool = True
    images: bool = True
    image_types: frozenset[str] | None = None  # None: all
    image_limit: int | None = None
    is_admin: bool = False

    def has(self, field: str) -> bool:
        """Whether ``field`` (an ItemFields name) is to be sent."""
        return self.all_fields or field in self.fields

    @property
    def needs_details(self) -> bool:
        """Whether the page query must read the detail columns (plot, container, size, path)."""
        return self.all_fields or bool(self.fields & DETAIL_FIELDS)

    @property
    def needs_streams(self) -> bool:
        """Whether media streams must be read (one query for the whole page)."""
        return self.has("MediaSources") or self.has("MediaStreams")


def options(request: Request, user: User, *, detail: bool = False, client: str = "") -> DtoOptions:
    """The DTO options a request asks for (``Fields``, ``EnableImages``, ``EnableUserData``, image options).

    :raises BadInput: for a malformed boolean or integer.
    """
    fields = {ITEM_FIELDS[f.lower()] for f in arg_list(request, "Fields") if f.lower() in ITEM_FIELDS}
    lowered = client.lower()
    if any(name in lowered for name in _COUNTING_CLIENTS):
        fields |= {"ChildCount", "RecursiveItemCount"}
    types = {t.lower() for t in arg_list(request, "EnableImageTypes")}
    return DtoOptions(
        fields=frozenset(fields), all_fields=detail, user_data=arg_bool(request, "EnableUserData") is not False,
        images=arg_bool(request, "EnableImages") is not False, image_types=frozenset(types) if types else None,
        image_limit=arg_int(request, "ImageTypeLimit", None, 0, 1000), is_admin=user.is_admin,
    )  # fmt: skip


def _image_tags(images: dict[str, Any], opts: DtoOptions) -> tuple[dict[str, str], list[str]]:
    """(``ImageTags``, ``BackdropImageTags``): the tag of an image is its version, so it changes with it."""
    tags: dict[str, str] = {}
    backdrops: list[str] = []
    if opts.image_limit == 0:
        return tags, backdrops
    for kind, version in (images or {}).items():
        name = _IMAGE_TYPES.get(kind)
        if name is None or (opts.image_types is not None and name.lower() not in opts.image_types):
            continue
        if name == "Backdrop":
            backdrops.append(str(version))
        else:
            tags[name] = str(version)
    return tags, backdrops


def _hex(value: Any) -> str | None:
    """``wire.jf_id`` for the canonical UUID strings of item dicts, without parsing them (hot path)."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 36:
        return value.replace("-", "")
    return jf_id(value)


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    """``d`` without ``None`` values, one level (DTOs are built so nothing deeper holds one)."""
    return {k: v for k, v in d.items() if v is not None}


def premiere_date(year: int | None) -> str | None:
    """The first day of ``year`` (yaffw keeps years, not dates)."""
    if not year or not 1 <= year <= 9999:
        return None
    return f"{year:04d}-01-01T00:00:00.0000000Z"


def genre_id(name: str) -> str:
    """A stable id for a genre name (yaffw has no genre items)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "yaffw:genre:" + name.lower()).hex


def base_item_dto(item: dict[str, Any], server_id: str, opts: DtoOptions,
                  streams: list[dict[str, Any]] | None = None) -> dict[str, Any]:  # fmt: skip
    """A yaffw item dict as ``BaseItemDto`` (``streams``: its media streams, when MediaSources are sent)."""
    kind = item["type"]
    folder = kind in FOLDER_KINDS
    rating = item.get("rating")
    dto: dict[str, Any] = {
        "Name": item["name"], "ServerId": server_id, "Id": _hex(item["id"]), "Type": KIND_TO_TYPE[kind],
        "IsFolder": folder, "MediaType": "Unknown" if folder else "Video", "LocationType": "FileSystem",
        "IndexNumber": item.get("index_number"), "ParentIndexNumber": item.get("parent_index_number"),
        "ProductionYear": item.get("year"), "PremiereDate": premiere_date(item.get("year")),
        "CommunityRating": round(float(rating), 2) if rating is not None else None,
        "RunTimeTicks": ticks(item.get("duration_seconds")), "Container": item.get("container"),
        "ImageBlurHashes": {},
    }  # fmt: skip
    if not folder:
        dto["VideoType"] = "VideoFile"
    if item.get("extra_kind"):
        dto["ExtraType"] = EXTRA_TYPES.get(item["extra_kind"], "Unknown")
    if kind in ("episode", "season"):
        dto["SeriesId"], dto["SeriesName"] = _hex(item.get("series_id")), item.get("series_name")
    if kind == "episode":
        dto["SeasonId"], dto["SeasonName"] = _hex(item.get("season_id")), item.get("season_name")
    if opts.images:
        dto["ImageTags"], dto["BackdropImageTags"] = _image_tags(item.get("images") or {}, opts)
    if opts.user_data:
        dto["UserData"] = _user_data(item, folder)
    _optional_fields(dto, item, opts, folder)
    if not folder and opts.needs_streams and streams is not None:
        sources = clean(ms.media_sources(item, streams, server_id, show_path=opts.is_admin))
        if opts.has("MediaSources"):
            dto["MediaSources"] = sources
        if opts.has("MediaStreams"):
            dto["MediaStreams"] = sources[0]["MediaStreams"] if sources else []
    return _drop_none(dto)


def _user_data(item: dict[str, Any], folder: bool) -> dict[str, Any]:
    leaves, unplayed = item.get("leaf_count"), item.get("unplayed_count")
    data = user_data_dto(item.get("user_data"), item["id"], None if folder else item.get("duration_seconds"),
                         unplayed if folder else None)  # fmt: skip
    if folder and leaves is not None and unplayed is not None:
        # A series or season is played when every episode below it is (as Jellyfin counts it).
        data["Played"] = leaves > 0 and unplayed == 0
        if leaves and unplayed < leaves:
            data["PlayedPercentage"] = 100.0 * (leaves - unplayed) / leaves
    return _drop_none(data)


def _optional_fields(dto: dict[str, Any], item: dict[str, Any], opts: DtoOptions, folder: bool) -> None:
    """The fields Jellyfin sends only when asked for (or for the item detail)."""
    wanted = _ALL_FIELDS if opts.all_fields else opts.fields
    if not wanted:
        return
    has = wanted.__contains__
    if has("Overview"):
        dto["Overview"] = item.get("plot")
    if has("Genres"):
        genres = list(item.get("genres") or [])
        dto["Genres"] = genres
        dto["GenreItems"] = [{"Name": g, "Id": genre_id(g)} for g in genres]
    if has("OriginalTitle"):
        dto["OriginalTitle"] = item.get("original_title")
    if has("SortName"):
        dto["SortName"] = item.get("sort_name")
    if has("DateCreated"):
        dto["DateCreated"] = date(item.get("date_added"))
    if has("ParentId"):
        dto["ParentId"] = _hex(item.get("parent_id") or item.get("library_id"))
    if has("Path") and opts.is_admin:
        dto["Path"] = item.get("path")
    if has("PrimaryImageAspectRatio") and "primary" in (item.get("images") or {}):
        dto["PrimaryImageAspectRatio"] = _WIDE if item["type"] in ("episode", "video") else _POSTER
    if folder:
        if has("ChildCount") or item["type"] == "season":
            dto["ChildCount"] = item.get("child_count")
        if has("RecursiveItemCount"):
            dto["RecursiveItemCount"] = item.get("leaf_count")
    elif has("MediaSourceCount"):
        dto["MediaSourceCount"] = 1
    if has("CanDelete"):
        dto["CanDelete"] = False
    if has("CanDownload"):
        dto["CanDownload"] = not folder
    if has("Taglines"):
        dto["Taglines"] = []
    if has("People"):
        dto["People"] = []
    if has("Studios"):
        dto["Studios"] = []
    if has("Tags"):
        dto["Tags"] = []
    if has("ProviderIds"):
        dto["ProviderIds"] = {}
    if has("ExternalUrls"):
        dto["ExternalUrls"] = []
    if has("RemoteTrailers"):
        dto["RemoteTrailers"] = []
    if has("Chapters") and not folder:
        dto["Chapters"] = []
    if has("LocalTrailerCount"):
        dto["LocalTrailerCount"] = 0
    if has("SpecialFeatureCount"):
        dto["SpecialFeatureCount"] = 0
    if has("PlayAccess"):
        dto["PlayAccess"] = "Full"
    if has("EnableMediaSourceDisplay"):
        dto["EnableMediaSourceDisplay"] = True
    if has("DisplayPreferencesId"):
        dto["DisplayPreferencesId"] = jf_id(item["id"])
    if has("Etag"):
        images = sorted((item.get("images") or {}).items())
        stamp = f"{item['id']}:{item.get('date_modified') or item.get('date_added')}:{images}"
        dto["Etag"] = hashlib.md5(stamp.encode(), usedforsecurity=False).hexdigest()


def library_dto(library: dict[str, Any], server_id: str, opts: DtoOptions) -> dict[str, Any]:
    """A yaffw library (``queries.libraries`` dict) as a ``CollectionFolder`` view."""
    lid = jf_id(library["id"])
    dto: dict[str, Any] = {
        "Name": library["name"], "ServerId": server_id, "Id": lid, "Type": "CollectionFolder",
        "CollectionType": COLLECTION_TYPES.get(library.get("kind") or ""), "IsFolder": True,
        "MediaType": "Unknown", "LocationType": "FileSystem", "ChildCount": library.get("item_count"),
        "ImageBlurHashes": {}, "DisplayPreferencesId": lid,
    }  # fmt: skip
    if opts.images:
        dto["ImageTags"], dto["BackdropImageTags"] = {}, []
    if opts.user_data:
        dto["UserData"] = user_data_dto(None, library["id"])
    if opts.has("DateCreated"):
        dto["DateCreated"] = date(library.get("created_at"))
    if opts.has("SortName"):
        dto["SortName"] = library["name"].lower()
    if opts.has("Path") and opts.is_admin and library.get("paths"):
        dto["Path"] = library["paths"][0]
    if opts.has("CanDelete"):
        dto["CanDelete"] = False
    if opts.has("CanDownload"):
        dto["CanDownload"] = False
    return _drop_none(dto)


# The root folder above the libraries (Jellyfin's ``UserRootFolder``): yaffw has none, so a fixed id.
ROOT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "yaffw:jellyfin:user-root-folder"))


def root_dto(server_id: str, opts: DtoOptions, library_count: int) -> dict[str, Any]:
    """The root folder, whose children are the caller's libraries (``/Items/Root``)."""
    rid = jf_id(ROOT_ID)
    dto: dict[str, Any] = {
        "Name": "Media Folders", "ServerId": server_id, "Id": rid, "Type": "UserRootFolder", "IsFolder": True,
        "MediaType": "Unknown", "LocationType": "FileSystem", "ChildCount": library_count, "ImageBlurHashes": {},
        "DisplayPreferencesId": rid,
    }  # fmt: skip
    if opts.images:
        dto["ImageTags"], dto["BackdropImageTags"] = {}, []
    if opts.user_data:
        dto["UserData"] = _drop_none(user_data_dto(None, ROOT_ID))
    if opts.has("SortName"):
        dto["SortName"] = "media folders"
    return dto
