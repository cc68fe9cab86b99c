"""Browsing: ``/UserViews``, ``/Items``, ``/Items/{id}``, ``/Items/Latest``, ``/UserItems/Resume``,
``/Items/{id}/Ancestors``, ``/Items/Counts``, ``/Items/Filters[2]`` and the empty extras
(``Similar``, ``ThemeMedia``, ``SpecialFeatures``, ``LocalTrailers``), with the legacy
``/Users/{userId}/...`` aliases.

Everything runs on ``queries.items`` (the same SQL as ``/api/items``: one query for the page, one for
the count); this module only translates Jellyfin's parameters and builds DTOs (``dto``).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from yaffw.errors import NotFound

from yaffw_api.access import visible_item
from yaffw_api.auth import User
from yaffw_api.context import deps
from yaffw_api.jellyfin import dto, jfauth
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.server import server_id
from yaffw_api.jellyfin.users import check_user_param
from yaffw_api.jellyfin.wire import arg, arg_bool, arg_int, arg_list, parse_id, parse_ids, reply
from yaffw_api.queries import items as item_queries
from yaffw_api.queries import libraries as library_queries
from yaffw_api.queries import versions
from yaffw_api.queries._rows import Conn, clean_text

bp = Blueprint("jf_browse", url_prefix=PREFIX)

MAX_LIMIT = 2000  # Jellyfin returns everything without a Limit; yaffw pages at most this many
# Jellyfin's BaseItemKind names, lower case; kinds yaffw has no items of match nothing.
ITEM_KINDS = frozenset({
    "aggregatefolder", "audio", "audiobook", "basepluginfolder", "book", "boxset", "channel", "channelfolderitem",
    "collectionfolder", "episode", "folder", "genre", "manualplaylistsfolder", "movie", "livetvchannel",
    "livetvprogram", "musicalbum", "musicartist", "musicgenre", "musicvideo", "person", "photo", "photoalbum",
    "playlist", "playlistsfolder", "program", "recording", "season", "series", "studio", "trailer", "tvchannel",
    "tvprogram", "userrootfolder", "userview", "video", "year",
})  # fmt: skip
# Jellyfin's ItemSortBy → the sort of queries.items (first one that yaffw knows wins).
SORTS = {
    "sortname": "name", "name": "name", "default": "name", "seriessortname": "name", "productionyear": "year",
    "premieredate": "year", "datecreated": "date_added", "datelastcontentadded": "date_added",
    "communityrating": "rating", "criticrating": "rating", "random": "random", "indexnumber": "index",
    "parentindexnumber": "index", "airedepisodeorder": "index", "dateplayed": "date_played",
    "seriesdateplayed": "date_played", "runtime": "runtime", "playcount": "play_count",
}  # fmt: skip


def query_result(items: list[dict[str, Any]], total: int, start: int = 0) -> HTTPResponse:
    """``{Items, TotalRecordCount, StartIndex}`` of DTOs that ``dto`` built without nulls (so no second
    pass over the page, as ``wire.query_result`` makes, is needed: this is the hot path of big lists).
    """
    return json({"Items": items, "TotalRecordCount": total, "StartIndex": start})


async def caller(request: Request, user_id: str | None = None) -> tuple[User, Conn, str]:
    """(user, pool, server id) for a browse request; ``userId`` (query or legacy path) must be the caller."""
    user = await jfauth.require_user(request)
    check_user_param(user, user_id or arg(request, "userId"))
    pool = deps(request).pool
    assert pool is not None
    return user, pool, await server_id(request)


def item_types(request: Request, name: str) -> tuple[tuple[str, ...], bool]:
    """(yaffw kinds, whether any kind was named) from ``IncludeItemTypes``/``ExcludeItemTypes``.

    Names are case-insensitive; unknown names are skipped, as Jellyfin's list binder does.
    """
    named = [t.lower() for t in arg_list(request, name) if t.lower() in ITEM_KINDS]
    kinds = tuple(dict.fromkeys(dto.TYPE_TO_KIND[t] for t in named if t in dto.TYPE_TO_KIND))
    return kinds, bool(named)


def sort_of(request: Request) -> tuple[str | None, str | None]:
    """(sort, order) for ``queries.items`` from ``SortBy`` / ``SortOrder`` (Jellyfin defaults to ascending)."""
    sort = next((SORTS[s.lower()] for s in arg_list(request, "SortBy") if s.lower() in SORTS), None)
    orders = [o.lower() for o in arg_list(request, "SortOrder") if o.lower() in ("ascending", "descending")]
    order = "desc" if orders and orders[0] == "descending" else "asc"
    return sort, order if sort else None


def page(request: Request, default_limit: int = MAX_LIMIT) -> tuple[int, int]:
    """(StartIndex, Limit). :raises BadInput: for a malformed or out-of-range number."""
    start = arg_int(request, "StartIndex", 0, 0, item_queries.MAX_OFFSET) or 0
    limit = arg_int(request, "Limit", default_limit, 0, 1_000_000)
    return start, min(limit if limit is not None else default_limit, MAX_LIMIT)


def search_term(request: Request) -> str | None:
    """``SearchTerm``, cleaned (:raises BadInput: for NULs, bad Unicode or more than 200 characters)."""
    raw = arg(request, "SearchTerm")
    if raw is None:
        return None
    return clean_text(raw, "SearchTerm", max_len=200, allow_empty=True).strip() or None


async def dtos(pool: Conn, rows: list[dict[str, Any]], sid: str, opts: dto.DtoOptions) -> list[dict[str, Any]]:
    """DTOs of a page of items; streams (for MediaSources) are read in one query for the whole page."""
    streams: dict[str, list[dict[str, Any]]] = {}
    if opts.needs_streams:
        playable = [r["id"] for r in rows if r["type"] not in dto.FOLDER_KINDS]
        streams = await item_queries.streams_for(pool, playable)
    return [dto.base_item_dto(r, sid, opts, streams.get(r["id"])) for r in rows]


async def library_or_none(pool: Conn, user: User, value: str) -> dict[str, Any] | None:
    """The visible library with that id, or ``None`` (it may be an item's id)."""
    try:
        return await library_queries.get(pool, user, value)
    except NotFound:
        return None


# ---------------------------------------------------------------------------------------------- views


@bp.get("/userviews")
@bp.get("/users/<user_id:str>/views", name="user_views_legacy")
async def user_views(request: Request, user_id: str | None = None) -> HTTPResponse:
    """The caller's libraries as ``CollectionFolder`` items."""
    user, pool, sid = await caller(request, user_id)
    arg_bool(request, "includeExternalContent")
    arg_bool(request, "includeHidden")
    opts = dto.options(request, user)
    views = [dto.library_dto(lib, sid, opts) for lib in await library_queries.list_visible(pool, user)]
    return query_result(views, len(views), 0)


# ---------------------------------------------------------------------------------------------- /Items


def _filters(request: Request) -> dict[str, Any] | None:
    """ItemQuery filters from ``Filters``, ``IsPlayed``, ``IsFavorite``; ``None`` when they cannot match."""
    out: dict[str, Any] = {}
    names = {f.lower() for f in arg_list(request, "Filters")}

    def want(key: str, value: bool) -> bool:
        if out.get(key, value) != value:
            return False  # e.g. IsPlayed and IsUnplayed together
        out[key] = value
        return True

    checks = [("isplayed", "played", True), ("isunplayed", "played", False), ("isfavorite", "favorite", True),
              ("isfavoriteorlikes", "favorite", True), ("isresumable", "resumable", True),
              ("isfolder", "folder", True), ("isnotfolder", "folder", False)]  # fmt: skip
    for name, key, value in checks:
        if name in names and not want(key, value):
            return None
    if names & {"likes", "dislikes"}:
        return None  # yaffw keeps no likes
    for param, key in (("IsPlayed", "played"), ("IsFavorite", "favorite")):
        value = arg_bool(request, param)
        if value is not None and not want(key, value):
            return None
    return out


@bp.get("/items")
@bp.get("/users/<user_id:str>/items", name="user_items_legacy")
async def items_list(request: Request, user_id: str | None = None) -> HTTPResponse:
    """Items by parent (library, series, season), type, filters, search and ids; sorted and paged."""
    user, pool, sid = await caller(request, user_id)
    opts = dto.options(request, user, client=jfauth.client_info(request).client)
    start, limit = page(request)
    include, include_named = item_types(request, "IncludeItemTypes")
    exclude, _ = item_types(request, "ExcludeItemTypes")
    ids = parse_ids(arg(request, "Ids"))
    q = search_term(request)
    sort, order = sort_of(request)
    parent = arg(request, "ParentId")
    parent_id = parse_id(parent, "parent", bad_input=True) if parent else None
    if parent_id == dto.ROOT_ID:
        parent_id = None  # the root folder's children are the libraries
    # A search without a parent looks everywhere, as Jellyfin's clients expect.
    recursive = bool(arg_bool(request, "Recursive")) or bool(q and not parent_id)
    for flag in ("EnableImages", "EnableUserData", "EnableTotalRecordCount", "IsMissing", "CollapseBoxSetItems"):
        arg_bool(request, flag)  # accepted (and checked); yaffw has nothing they would change
    filters = _filters(request)
    library = await library_or_none(pool, user, parent_id) if parent_id else None

    libraries: list[dict[str, Any]] = []
    if not parent_id and (ids or not recursive):
        # The root folder's children are the libraries (and Ids may name a library).
        libraries = await library_queries.list_visible(pool, user)
        if not ids:
            views = [dto.library_dto(lib, sid, opts) for lib in libraries]
            return query_result(views[start : start + limit], len(views), start)
        libraries = [lib for lib in libraries if lib["id"] in ids]

    media_types = {m.lower() for m in arg_list(request, "MediaTypes")}
    if filters is not None and media_types:
        # Only yaffw's playable items have a media type (Video); folders have none.
        if "video" not in media_types or filters.get("folder") is True:
            filters = None
        else:
            filters["folder"] = False
    if filters is not None and "folder" in filters:
        include = tuple(t for t in (include or dto.KIND_TO_TYPE) if (t in dto.FOLDER_KINDS) == filters["folder"])
        include_named = True
    if filters is None or (include_named and not include):
        return query_result([], 0, start)  # nothing can match (or only kinds yaffw has no items of)

    query = item_queries.ItemQuery(
        library_id=library["id"] if library else None, parent_id=None if library else parent_id, types=include,
        q=q, sort=sort, order=order, offset=start, limit=limit, recursive=recursive, ids=tuple(ids),
        exclude_types=exclude, played=filters.get("played"), favorite=filters.get("favorite"),
        resumable=filters.get("resumable"), with_details=opts.needs_details, with_counts=True,
    )  # fmt: skip
    rows, total = await item_queries.list_items(pool, user, query)
    found = await dtos(pool, rows, sid, opts)
    if libraries:  # Ids named libraries too: they come first
        found = [dto.library_dto(lib, sid, opts) for lib in libraries] + found
        total += len(libraries)
    return query_result(found, total, start)


# ---------------------------------------------------------------------------------------------- one item


async def item_detail(pool: Conn, user: User, sid: str, item_id: str) -> dict[str, Any]:
    """The full DTO of an item or library (Jellyfin's detail sends every field). :raises NotFound:"""
    opts = dto.DtoOptions(all_fields=True, is_admin=user.is_admin)
    if item_id.lower() == "root" or (item_id := parse_id(item_id)) == dto.ROOT_ID:
        return dto.root_dto(sid, opts, len(await library_queries.list_visible(pool, user)))
    try:
        item = await item_queries.get(pool, user, item_id)
    except NotFound:
        library = await library_or_none(pool, user, item_id)
        if library is None:
            raise
        return dto.library_dto(library, sid, opts)
    if item["type"] in dto.FOLDER_KINDS:
        item.update(await item_queries.folder_counts(pool, user, item_id))
    if item["type"] != "movie":
        return dto.base_item_dto(item, sid, opts, item.get("streams") or [])
    # A film's other versions are its other MediaSources; a film in parts says how many (issue 16).
    own, *others = await versions.versions(pool, item, item.get("streams") or [])
    out = dto.base_item_dto({**own[0], "versions": others}, sid, opts, item.get("streams") or [])
    if others:
        out["MediaSourceCount"] = 1 + len(others)
    parts = await pool.fetchval(f"SELECT {versions.PART_COUNT} FROM media_items i WHERE i.id = $1::uuid", item_id)
    if parts and parts > 1:
        out["PartCount"] = parts
    return out


@bp.get("/items/<item_id:str>")
@bp.get("/users/<user_id:str>/items/<item_id:str>", name="user_item_legacy")
@bp.get("/items/root", name="root_folder")
@bp.get("/users/<user_id:str>/items/root", name="root_folder_legacy")
async def item_one(request: Request, item_id: str = "root", user_id: str | None = None) -> HTTPResponse:
    """One item (or library, or the root folder) with every field, its media sources and the caller's user data."""
    user, pool, sid = await caller(request, user_id)
    return reply(await item_detail(pool, user, sid, item_id))


@bp.get("/items/<item_id:str>/ancestors")
async def ancestors(request: Request, item_id: str) -> HTTPResponse:
    """The item's parents up to its library: ``[season, series, library]`` for an episode."""
    user, pool, sid = await caller(request)
    opts = dto.options(request, user)
    item_id = parse_id(item_id)
    try:
        item = await item_queries.get(pool, user, item_id)
    except NotFound:
        if await library_or_none(pool, user, item_id) is None:
            raise
        return reply([])  # a library's parent is the root, which yaffw does not show
    out: list[dict[str, Any]] = []
    while item.get("parent_id"):
        item = await item_queries.get(pool, user, item["parent_id"])
        out.append(dto.base_item_dto(item, sid, opts))
    library = await library_queries.get(pool, user, item["library_id"])
    out.append(dto.library_dto(library, sid, opts))
    return reply(out)


# ---------------------------------------------------------------------------------------------- home rows


@bp.get("/items/latest")
@bp.get("/users/<user_id:str>/items/latest", name="latest_legacy")
async def latest(request: Request, user_id: str | None = None) -> HTTPResponse:
    """Recently added (a bare array): a show's new episodes grouped as the series, unless GroupItems=false."""
    user, pool, sid = await caller(request, user_id)
    opts = dto.options(request, user, client=jfauth.client_info(request).client)
    limit = arg_int(request, "Limit", 20, 0, 1_000_000) or 0
    include, include_named = item_types(request, "IncludeItemTypes")
    group = arg_bool(request, "GroupItems") is not False
    played = arg_bool(request, "IsPlayed")
    parent = arg(request, "ParentId")
    library_id = None
    if parent:
        parent_id = parse_id(parent, "parent", bad_input=True)
        library = await library_or_none(pool, user, parent_id)
        if library is None:
            await visible_item(pool, user, parent_id, "i.id")  # 404 unless visible
            return reply([])  # yaffw groups recently added by library only
        library_id = library["id"]
    if (include_named and not include) or limit == 0:
        return reply([])
    rows = await item_queries.latest(pool, user, library_id, min(limit, 100), types=include or item_queries.LEAF_TYPES,
                                     group=group, played=played)  # fmt: skip
    out = []
    for row in rows:
        item = dto.base_item_dto(row, sid, opts)
        if row["type"] in dto.FOLDER_KINDS:
            item["ChildCount"] = row.get("added_count")  # as Jellyfin: how many new episodes
        out.append(item)
    return reply(out)


@bp.get("/useritems/resume")
@bp.get("/users/<user_id:str>/items/resume", name="resume_legacy")
async def resume(request: Request, user_id: str | None = None) -> HTTPResponse:
    """Continue watching: partly watched items, most recently played first."""
    user, pool, sid = await caller(request, user_id)
    opts = dto.options(request, user, client=jfauth.client_info(request).client)
    start, limit = page(request, 100)
    include, include_named = item_types(request, "IncludeItemTypes")
    exclude, _ = item_types(request, "ExcludeItemTypes")
    media_types = {m.lower() for m in arg_list(request, "MediaTypes")}
    q = search_term(request)
    parent = arg(request, "ParentId")
    library_id = None
    if parent:
        parent_id = parse_id(parent, "parent", bad_input=True)
        library = await library_or_none(pool, user, parent_id)
        if library is None:
            raise NotFound("parent not found")
        library_id = library["id"]
    kinds = tuple(k for k in (include or item_queries.LEAF_TYPES) if k not in exclude)
    if (include_named and not include) or not kinds or (media_types and "video" not in media_types):
        return query_result([], 0, start)
    rows, total = await item_queries.resume_page(pool, user, offset=start, limit=limit, library_id=library_id,
                                                 types=kinds, q=q)  # fmt: skip
    return query_result(await dtos(pool, rows, sid, opts), total, start)


# ---------------------------------------------------------------------------------------------- summaries


@bp.get("/items/counts")
async def counts(request: Request) -> HTTPResponse:
    """How many movies, series and episodes the caller can see (optionally only favourites)."""
    user, pool, _ = await caller(request)
    by_kind = await item_queries.counts(pool, user, favorite=arg_bool(request, "IsFavorite"))
    zero = ("ArtistCount", "ProgramCount", "TrailerCount", "SongCount", "AlbumCount", "MusicVideoCount",
            "BoxSetCount", "BookCount")  # fmt: skip
    body = {name: 0 for name in zero}
    body.update({
        "MovieCount": by_kind.get("movie", 0), "SeriesCount": by_kind.get("series", 0),
        "EpisodeCount": by_kind.get("episode", 0), "ItemCount": sum(by_kind.values()),
    })  # fmt: skip
    return reply(body)


async def _facets(request: Request) -> dict[str, list[Any]]:
    user, pool, _ = await caller(request)
    include, include_named = item_types(request, "IncludeItemTypes")
    if include_named and not include:
        return {"genres": [], "years": []}
    parent = arg(request, "ParentId")
    library_id = parent_id = None
    if parent:
        parent_id = parse_id(parent, "parent", bad_input=True)
        library = await library_or_none(pool, user, parent_id)
        if library is not None:
            library_id, parent_id = library["id"], None
    return await item_queries.facets(pool, user, library_id=library_id, parent_id=parent_id, types=include)


@bp.get("/items/filters")
async def filters_legacy(request: Request) -> HTTPResponse:
    """Genres and years found under a parent (for filter menus)."""
    found = await _facets(request)
    return reply({"Genres": found["genres"], "Tags": [], "OfficialRatings": [], "Years": found["years"]})


@bp.get("/items/filters2")
async def filters2(request: Request) -> HTTPResponse:
    """Genres (with ids) found under a parent."""
    found = await _facets(request)
    return reply({"Genres": [{"Name": g, "Id": dto.genre_id(g)} for g in found["genres"]], "Tags": []})


# ---------------------------------------------------------------------------------------------- extras yaffw lacks


async def _visible_or_library(pool: Conn, user: User, item_id: str) -> str:
    """The item's canonical id if the caller can see it (an item or a library). :raises NotFound:"""
    item_id = parse_id(item_id)
    try:
        await visible_item(pool, user, item_id, "i.id")
    except NotFound:
        if await library_or_none(pool, user, item_id) is None:
            raise
    return item_id


SPECIAL_FEATURES = tuple(k for k in dto.EXTRA_TYPES if k not in ("trailer", "theme_video"))


async def extras(request: Request, item_id: str, kinds: tuple[str, ...], user_id: str | None = None,
                 ) -> tuple[str, list[dict[str, Any]]]:  # fmt: skip
    """(the owner's id, DTOs of its extras of ``kinds``): trailers, featurettes... that the scan linked to it."""
    user, pool, sid = await caller(request, user_id)
    owner = await _visible_or_library(pool, user, item_id)
    opts = dto.options(request, user, client=jfauth.client_info(request).client)
    query = item_queries.ItemQuery(owner_id=owner, extra_kinds=kinds, sort="name", order="asc", limit=MAX_LIMIT,
                                   recursive=True, with_details=True)  # fmt: skip
    rows, _ = await item_queries.list_items(pool, user, query)
    return owner, await dtos(pool, rows, sid, opts)


@bp.get("/items/<item_id:str>/similar")
async def similar(request: Request, item_id: str) -> HTTPResponse:
    """yaffw does not recommend: no similar items."""
    user, pool, _ = await caller(request)
    await _visible_or_library(pool, user, item_id)
    arg_int(request, "Limit", None)
    return query_result([], 0, 0)


@bp.get("/items/<item_id:str>/thememedia")
async def theme_media(request: Request, item_id: str) -> HTTPResponse:
    """Theme videos (extras named so); yaffw keeps no theme songs."""
    owner, videos = await extras(request, item_id, ("theme_video",))
    owner_hex = dto.jf_id(owner)
    empty = {"Items": [], "TotalRecordCount": 0, "StartIndex": 0, "OwnerId": owner_hex}
    themed = {"Items": videos, "TotalRecordCount": len(videos), "StartIndex": 0, "OwnerId": owner_hex}
    return reply({"ThemeVideosResult": themed, "ThemeSongsResult": empty, "SoundtrackSongsResult": empty})


@bp.get("/items/<item_id:str>/specialfeatures")
@bp.get("/users/<user_id:str>/items/<item_id:str>/specialfeatures", name="special_features_legacy")
async def special_features(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """The item's extras other than trailers: featurettes, behind the scenes, deleted scenes..."""
    return reply((await extras(request, item_id, SPECIAL_FEATURES, user_id))[1])


@bp.get("/items/<item_id:str>/localtrailers")
@bp.get("/users/<user_id:str>/items/<item_id:str>/localtrailers", name="local_trailers_legacy")
async def local_trailers(request: Request, item_id: str, user_id: str | None = None) -> HTTPResponse:
    """The item's trailers (files next to it, linked by the scan)."""
    return reply((await extras(request, item_id, ("trailer",), user_id))[1])
