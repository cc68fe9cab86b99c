"""Shows: ``/Shows/NextUp``, ``/Shows/{id}/Seasons``, ``/Shows/{id}/Episodes`` (and ``/Shows/Upcoming``,
always empty: yaffw keeps no air dates). Next up is ``queries.next_up`` (shared with ``/api``); the
lists are ``queries.items`` pages.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw.errors import BadInput, NotFound

from yaffw_api.access import visible_item
from yaffw_api.auth import User
from yaffw_api.jellyfin import dto, jfauth
from yaffw_api.jellyfin.browse import MAX_LIMIT, caller, dtos, library_or_none, page, query_result, sort_of
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.wire import arg, arg_bool, arg_int, parse_id
from yaffw_api.queries import items as item_queries
from yaffw_api.queries._rows import Conn
from yaffw_api.queries.next_up import next_up as next_up_ids

bp = Blueprint("jf_shows", url_prefix=PREFIX)


def _cutoff(request: Request) -> datetime | None:
    """``NextUpDateCutoff`` as a UTC datetime. :raises BadInput: if it is not an ISO 8601 date."""
    raw = arg(request, "NextUpDateCutoff")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadInput("NextUpDateCutoff must be an ISO 8601 date") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@bp.get("/shows/nextup")
async def next_up(request: Request) -> HTTPResponse:
    """For each series the caller has watched something of, the next episode; last watched series first."""
    user, pool, sid = await caller(request)
    opts = dto.options(request, user, client=jfauth.client_info(request).client)
    start, limit = page(request)
    for flag in ("EnableImages", "EnableUserData", "EnableTotalRecordCount", "DisableFirstEpisode",
                 "EnableRewatching"):  # fmt: skip
        arg_bool(request, flag)  # accepted and checked
    resumable = arg_bool(request, "EnableResumable") is not False
    series = arg(request, "SeriesId")
    series_id = parse_id(series, "series", bad_input=True) if series else None
    parent = arg(request, "ParentId")
    library_id = None
    if parent:
        library = await library_or_none(pool, user, parse_id(parent, "parent", bad_input=True))
        if library is None:
            raise NotFound("parent not found")
        library_id = library["id"]
    ids = await next_up_ids(pool, user, series_id=series_id, library_id=library_id, since=_cutoff(request),
                            resumable=resumable)  # fmt: skip
    chosen = ids[start : start + limit]
    rows: list[dict[str, Any]] = []
    if chosen:
        query = item_queries.ItemQuery(ids=tuple(chosen), limit=len(chosen), with_details=opts.needs_details)
        rows, _ = await item_queries.list_items(pool, user, query)
    return query_result(await dtos(pool, rows, sid, opts), len(ids), start)


async def _series(pool: Conn, user: User, series_id: str) -> str:
    """The canonical id of a visible series. :raises NotFound: otherwise (Jellyfin answers 404 too)."""
    series_id = parse_id(series_id, "series")
    row = await visible_item(pool, user, series_id, "i.id, i.type")
    if row["type"] != "series":
        raise NotFound("series not found")
    return series_id


@bp.get("/shows/<series_id:str>/seasons")
async def seasons(request: Request, series_id: str) -> HTTPResponse:
    """A series' seasons in order (``IsSpecialSeason`` keeps or drops season 0)."""
    user, pool, sid = await caller(request)
    opts = dto.options(request, user, client=jfauth.client_info(request).client)
    series_id = await _series(pool, user, series_id)
    special = arg_bool(request, "IsSpecialSeason")
    for flag in ("IsMissing", "EnableImages", "EnableUserData"):
        arg_bool(request, flag)
    query = item_queries.ItemQuery(parent_id=series_id, types=("season",), sort="index", order="asc",
                                   limit=MAX_LIMIT, recursive=False, with_details=opts.needs_details,
                                   with_counts=True)  # fmt: skip
    rows, _ = await item_queries.list_items(pool, user, query)
    if special is not None:
        rows = [r for r in rows if (r.get("index_number") == 0) == special]
    return query_result(await dtos(pool, rows, sid, opts), len(rows), 0)


@bp.get("/shows/<series_id:str>/episodes")
async def episodes(request: Request, series_id: str) -> HTTPResponse:
    """A series' episodes (of one season with ``SeasonId`` or ``Season``), in order, from ``StartItemId``."""
    user, pool, sid = await caller(request)
    opts = dto.options(request, user, client=jfauth.client_info(request).client)
    series_id = await _series(pool, user, series_id)
    start, limit = page(request)
    season_number = arg_int(request, "Season", None, 0, 100_000)
    season = arg(request, "SeasonId")
    start_item = arg(request, "StartItemId")
    start_item_id = parse_id(start_item, "start item", bad_input=True) if start_item else None
    for flag in ("IsMissing", "EnableImages", "EnableUserData"):
        arg_bool(request, flag)
    sort, order = sort_of(request)
    parent_id = series_id
    if season:
        parent_id = parse_id(season, "season", bad_input=True)
        row = await visible_item(pool, user, parent_id, "i.id, i.type, i.parent_id")
        if row["type"] != "season" or str(row["parent_id"]) != series_id:
            raise NotFound("season not found")
    query = item_queries.ItemQuery(
        parent_id=parent_id, types=("episode",), sort="index" if sort in (None, "random") else sort,
        order=order or "asc", limit=MAX_LIMIT, recursive=True, season_number=None if season else season_number,
        with_details=opts.needs_details,
    )  # fmt: skip
    rows, _ = await item_queries.list_items(pool, user, query)
    if sort == "random":
        random.shuffle(rows)
    if start_item_id:
        at = next((n for n, r in enumerate(rows) if r["id"] == start_item_id), len(rows))
        rows = rows[at:]
    return query_result(await dtos(pool, rows[start : start + limit], sid, opts), len(rows), start)


@bp.get("/shows/upcoming")
async def upcoming(request: Request) -> HTTPResponse:
    """yaffw keeps no air dates: nothing is upcoming."""
    await caller(request)
    page(request)
    return query_result([], 0, 0)
