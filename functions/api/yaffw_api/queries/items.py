"""SQL for ``media_items`` (with their streams, images and the caller's user data).

Every function filters by the libraries the caller may see; anything else is ``NotFound``.
An item dict carries: ``id, library_id, parent_id, type, name, sort_name, original_title, year,
genres, rating, index_number, parent_index_number, duration_seconds, date_added, child_count,
series_id, series_name, season_id, season_name, images`` (``{kind: version}``, version changes when
the image does) and ``user_data`` (``{played, position_seconds, favorite, play_count,
last_played_at}``). :func:`get` adds ``plot, container, bitrate, size, date_modified,
library_name, streams`` (and ``path`` for admins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from yaffw.errors import BadInput, NotFound

from yaffw_api.access import visible_library_ids
from yaffw_api.auth import User
from yaffw_api.params import parse_int
from yaffw_api.queries._rows import Args, Conn, clean_text, parse_id, row_dict

TYPES = ("movie", "series", "season", "episode", "video")
SORTS = ("name", "year", "date_added", "rating", "index", "relevance")
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000

_ORDER_BY = {
    "name": "i.sort_name {d}, i.id",
    "year": "i.year {d} NULLS LAST, i.sort_name, i.id",
    "date_added": "i.date_added {d}, i.id",
    "rating": "i.rating {d} NULLS LAST, i.sort_name, i.id",
    "index": "i.parent_index_number {d} NULLS LAST, i.index_number {d} NULLS LAST, i.sort_name, i.id",
    # Internal sorts for the Jellyfin surface (not in SORTS, so /api does not offer them).
    "random": "random()",
    "date_played": "u.last_played_at {d} NULLS LAST, i.sort_name, i.id",
    "runtime": "i.duration_seconds {d} NULLS LAST, i.sort_name, i.id",
    "play_count": "COALESCE(u.play_count, 0) {d}, i.sort_name, i.id",
}

# Episodes below a series or a season (directly or through its seasons), for folder counts. $1 is the user.
# One "= ANY(array)" keeps the parent_id index usable; "parent_id = i.id OR parent_id IN (...)" made
# PostgreSQL scan every item per series: 290 ms for a page of 100 series of a 20,000-item library.
_LEAVES = """
    FROM media_items d WHERE d.type = 'episode'
      AND d.parent_id = ANY(array_append(ARRAY(SELECT s.id FROM media_items s WHERE s.parent_id = i.id), i.id))
"""
_USER_DATA_HAS = (
    "EXISTS (SELECT 1 FROM user_item_data x WHERE x.item_id = {item}.id AND x.user_id = $1::uuid AND {cond})"
)
# Counts of a series or season for the caller: episodes below it and those not played yet.
_FOLDER_COUNTS = f"""
    CASE WHEN i.type IN ('series', 'season') THEN (SELECT count(*) {_LEAVES}) END AS leaf_count,
    CASE WHEN i.type IN ('series', 'season') THEN (SELECT count(*) {_LEAVES}
        AND NOT {_USER_DATA_HAS.format(item="d", cond="x.played")}) END AS unplayed_count
"""
# Played as Jellyfin sees it: a series or season when every episode below it is played.
_IS_PLAYED = f"""(CASE WHEN i.type IN ('series', 'season')
    THEN NOT EXISTS (SELECT 1 {_LEAVES} AND NOT {_USER_DATA_HAS.format(item="d", cond="x.played")})
    ELSE {_USER_DATA_HAS.format(item="i", cond="x.played")} END)"""
_DETAIL_COLUMNS = "i.plot, i.container, i.bitrate, i.size, i.date_modified, i.path, i.extra_kind"

# Columns of every item dict. $1 is the caller's user id (for user data).
_COLUMNS = """
    i.id, i.library_id, i.parent_id, i.type, i.name, i.sort_name, i.original_title, i.year, i.genres,
    i.rating, i.index_number, i.parent_index_number, i.duration_seconds, i.date_added,
    (SELECT count(*) FROM media_items c WHERE c.parent_id = i.id) AS child_count,
    CASE WHEN i.type = 'episode' THEN (CASE WHEN p.type = 'season' THEN g.id ELSE p.id END)
         WHEN i.type = 'season' THEN p.id END AS series_id,
    CASE WHEN i.type = 'episode' THEN (CASE WHEN p.type = 'season' THEN g.name ELSE p.name END)
         WHEN i.type = 'season' THEN p.name END AS series_name,
    CASE WHEN i.type = 'episode' AND p.type = 'season' THEN p.id END AS season_id,
    CASE WHEN i.type = 'episode' AND p.type = 'season' THEN p.name END AS season_name,
    COALESCE((SELECT jsonb_object_agg(m.kind, floor(extract(epoch FROM m.updated_at))::bigint)
              FROM images m WHERE m.item_id = i.id), '{}'::jsonb) AS images,
    COALESCE(u.played, false) AS ud_played, COALESCE(u.position_seconds, 0) AS ud_position_seconds,
    COALESCE(u.is_favorite, false) AS ud_favorite, COALESCE(u.play_count, 0) AS ud_play_count,
    u.last_played_at AS ud_last_played_at
"""
_JOINS = """
    LEFT JOIN media_items p ON p.id = i.parent_id
    LEFT JOIN media_items g ON g.id = p.parent_id
    LEFT JOIN user_item_data u ON u.item_id = i.id AND u.user_id = $1::uuid
"""

_DETAIL = f"""
SELECT {_COLUMNS}, i.plot, i.container, i.bitrate, i.size, i.date_modified, i.path,
       l.name AS library_name
FROM media_items i JOIN libraries l ON l.id = i.library_id {_JOINS}
WHERE i.id = $2::uuid AND i.library_id = ANY($3::uuid[])
"""

_STREAM_COLUMNS = """
stream_index AS index, type, codec, profile, level, width, height, frame_rate, bit_depth,
       pixel_format, channels, channel_layout, sample_rate, bitrate, language, title,
       is_default, is_forced, is_external
"""
_STREAMS = f"SELECT {_STREAM_COLUMNS} FROM media_streams WHERE item_id = $1::uuid ORDER BY stream_index"
_STREAMS_OF = (
    f"SELECT item_id, {_STREAM_COLUMNS} FROM media_streams WHERE item_id = ANY($1::uuid[]) "
    "ORDER BY item_id, stream_index"
)

_RESUME_FROM = f"""
FROM user_item_data u0 JOIN media_items i ON i.id = u0.item_id {_JOINS}
WHERE u0.user_id = $1::uuid AND u0.position_seconds > 0 AND NOT u0.played
  AND i.library_id = ANY($2::uuid[])
"""
_RESUME = f"""
SELECT {_COLUMNS} {_RESUME_FROM}
ORDER BY u0.last_played_at DESC NULLS LAST, i.id
LIMIT $3
"""
LEAF_TYPES = ("movie", "episode", "video")

# Recently added leaves (movies, videos, episodes); a show's new episodes are one entry: the
# episode itself when only one is new, else the series with ``added_count``. Only the newest few
# hundred leaves are looked at, so the query stays cheap on big libraries.
_LATEST = f"""
WITH leaf AS (
    SELECT i.id, i.date_added,
           CASE WHEN i.type = 'episode' AND $5::bool
                THEN COALESCE(CASE WHEN p.type = 'season' THEN p.parent_id ELSE p.id END, i.id)
                ELSE i.id END AS group_id
    FROM media_items i LEFT JOIN media_items p ON p.id = i.parent_id
    WHERE i.library_id = ANY($2::uuid[]) AND i.type = ANY($4::text[])
      AND i.extra_kind IS NULL  -- extras (trailers...) are shown on their film's page, never as new items
      AND i.film_id IS NULL  -- a film's other parts and versions are the film (migration 0011)
      AND ($6::bool IS NULL OR $6::bool = EXISTS (
          SELECT 1 FROM user_item_data x WHERE x.item_id = i.id AND x.user_id = $1::uuid AND x.played))
    ORDER BY i.date_added DESC LIMIT 500
), grouped AS (
    SELECT group_id, max(date_added) AS added, count(*) AS added_count,
           (array_agg(id ORDER BY date_added DESC))[1] AS newest_id
    FROM leaf GROUP BY group_id ORDER BY added DESC LIMIT $3
)
SELECT {_COLUMNS}, gr.added_count
FROM grouped gr
JOIN media_items i ON i.id = CASE WHEN gr.added_count = 1 THEN gr.newest_id ELSE gr.group_id END
{_JOINS}
ORDER BY gr.added DESC, i.id
"""


@dataclass(frozen=True)
class ItemQuery:
    """What ``GET /api/items`` (and the library pages) may ask for. Build with :meth:`from_args`."""

    library_id: str | None = None
    parent_id: str | None = None
    types: tuple[str, ...] = ()
    q: str | None = None
    sort: str | None = None  # None: relevance with q, episode order under a parent, else name
    order: str | None = None  # None: asc, except desc for date_added and rating
    offset: int = 0
    limit: int = 50
    # Optional extras (the Jellyfin surface uses them; /api's from_args leaves them at their defaults).
    recursive: bool | None = None  # None: /api's rule; True: any depth (descendants of parent_id); False: one level
    ids: tuple[str, ...] = ()  # only these items; with no sort, in this order
    exclude_types: tuple[str, ...] = ()
    played: bool | None = None  # a series or season is played when all its episodes are
    favorite: bool | None = None
    resumable: bool | None = None  # partly watched, not played
    season_number: int | None = None  # episodes of that season (parent_index_number)
    with_details: bool = False  # add plot, container, bitrate, size, date_modified (and path for admins)
    with_counts: bool = False  # add leaf_count and unplayed_count (the caller's) for series and seasons
    owner_id: str | None = None  # the extras (trailers, featurettes...) that belong to this item
    extra_kinds: tuple[str, ...] = ()  # only extras of these kinds

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ItemQuery:
        """Parse query-string values (unknown names are ignored). :raises BadInput: naming the field."""

        def text(name: str) -> str | None:
            value = args.get(name)
            if isinstance(value, list):  # a raw multi-dict
                value = value[0] if value else None
            return None if value is None or value == "" else str(value)

        def number(name: str, default: int, low: int, high: int) -> int:
            return parse_int(name, text(name), default, low, high)

        library_id, parent_id = text("library_id"), text("parent_id")
        types = tuple(t.strip() for t in (text("type") or "").split(",") if t.strip())
        for t in types:
            if t not in TYPES:
                raise BadInput(f"type must be one of {', '.join(TYPES)}")
        sort, order = text("sort"), text("order")
        if sort is not None and sort not in SORTS:
            raise BadInput(f"sort must be one of {', '.join(SORTS)}")
        if order is not None and order not in ("asc", "desc"):
            raise BadInput("order must be asc or desc")
        q = text("q")
        if q is not None:
            q = clean_text(q, "q", max_len=200, allow_empty=True).strip() or None
        return cls(
            library_id=parse_id(library_id, "library", bad_input=True) if library_id else None,
            parent_id=parse_id(parent_id, "parent", bad_input=True) if parent_id else None,
            types=types, q=q, sort=sort, order=order,
            offset=number("offset", 0, 0, MAX_OFFSET), limit=number("limit", 50, 1, MAX_LIMIT),
        )  # fmt: skip


def _item(row: Any) -> dict[str, Any]:
    """Fold the ``ud_*`` columns into ``user_data``."""
    out = row_dict(row)
    out["user_data"] = {
        "played": out.pop("ud_played"),
        "position_seconds": out.pop("ud_position_seconds"),
        "favorite": out.pop("ud_favorite"),
        "play_count": out.pop("ud_play_count"),
        "last_played_at": out.pop("ud_last_played_at"),
    }
    return out


def _like(q: str) -> str:
    escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_items(conn: Conn, user: User, query: ItemQuery) -> tuple[list[dict[str, Any]], int]:
    """One page of items and the total matching ``query``.

    Without ``parent_id``, ``type`` or ``q`` only top-level items (movies, series, loose videos)
    are listed. ``q`` matches words (full text) or any part of the name, tolerating typos (trigram).

    :raises NotFound: if ``library_id`` or ``parent_id`` is not visible to ``user``.
    """
    visible = await visible_library_ids(conn, user)
    if query.library_id and query.library_id not in visible:
        raise NotFound("library not found")
    a = Args(user.id, visible)
    where = ["i.library_id = ANY($2::uuid[])"]
    if query.library_id:
        where.append(f"i.library_id = {a.add(query.library_id)}::uuid")
    if query.parent_id:
        if not await conn.fetchval(
            "SELECT 1 FROM media_items WHERE id = $1::uuid AND library_id = ANY($2::uuid[])", query.parent_id, visible
        ):
            raise NotFound("parent item not found")
        if query.recursive:
            pp = a.add(query.parent_id)
            where.append(f"(i.parent_id = {pp}::uuid OR i.parent_id IN (SELECT c.id FROM media_items c "
                         f"WHERE c.parent_id = {pp}::uuid))")  # fmt: skip
        else:
            where.append(f"i.parent_id = {a.add(query.parent_id)}::uuid")
    if query.types:
        where.append(f"i.type = ANY({a.add(list(query.types))}::text[])")
    _extra_filters(query, a, where)
    if query.q:
        qp, lp = a.add(query.q), a.add(_like(query.q))
        where.append(
            f"(i.search @@ plainto_tsquery('simple', {qp}) OR lower(i.name) LIKE {lp} OR lower(i.name) % lower({qp}))"
        )
    if not query.owner_id and not query.ids:
        where.append("i.extra_kind IS NULL")  # extras are listed by their owner only, never as library items
        where.append("i.film_id IS NULL")  # a film's other parts and versions are the film itself
    top_level_only = query.recursive is False or (query.recursive is None and not (query.types or query.q))
    if top_level_only and not query.parent_id and not query.ids and not query.owner_id:
        where.append("i.parent_id IS NULL")
    where_sql = " AND ".join(where)
    # The count does not need $1 (user data) but keeps the numbering, so it names it harmlessly.
    total = await conn.fetchval(f"SELECT count(*) FROM media_items i WHERE $1::uuid IS NOT NULL AND {where_sql}",
                                *a.values)  # fmt: skip
    if query.offset >= total:
        return [], total
    sort = query.sort or ("relevance" if query.q else "index" if query.parent_id else "ids" if query.ids else "name")
    if sort == "ids":
        order_by = f"array_position({a.add(list(query.ids))}::uuid[], i.id), i.id"
    elif sort == "relevance" and query.q:
        qp = a.add(query.q)
        order_by = (
            f"(lower(i.name) = lower({qp})) DESC, (lower(i.name) LIKE {a.add(query.q.lower() + '%')}) DESC, "
            f"similarity(lower(i.name), lower({qp})) DESC, i.sort_name, i.id"
        )
    else:
        sort = "name" if sort == "relevance" else sort
        direction = query.order or ("desc" if sort in ("date_added", "rating") else "asc")
        order_by = _ORDER_BY[sort].format(d=direction.upper())
    columns = _COLUMNS
    if query.with_details:
        columns += ", " + _DETAIL_COLUMNS
    if query.with_counts:
        columns += ", " + _FOLDER_COUNTS
    # The page's ids first, its columns after: PostgreSQL evaluates the select list (per-row
    # subqueries: counts, images) for every row up to OFFSET + LIMIT, which at offset 9,900 of
    # 10,000 films cost 35-55 ms a page instead of 6 (loadtests/bench_jellyfin.py).
    sql = (
        f"SELECT {columns} FROM (SELECT i.id FROM media_items i {_JOINS} WHERE {where_sql} ORDER BY {order_by} "
        f"OFFSET {a.add(query.offset)} LIMIT {a.add(query.limit)}) AS page "
        f"JOIN media_items i ON i.id = page.id {_JOINS} ORDER BY {order_by}"
    )
    rows = await conn.fetch(sql, *a.values)
    found = [_item(r) for r in rows]
    if query.with_details and not user.is_admin:
        for item in found:
            item.pop("path", None)
    return found, total


def _extra_filters(query: ItemQuery, a: Args, where: list[str]) -> None:
    """The WHERE terms of ItemQuery's optional extras ($1 is the caller's id)."""
    if query.ids:
        where.append(f"i.id = ANY({a.add(list(query.ids))}::uuid[])")
    if query.exclude_types:
        where.append(f"NOT (i.type = ANY({a.add(list(query.exclude_types))}::text[]))")
    if query.owner_id:
        where.append(f"i.owner_id = {a.add(query.owner_id)}::uuid")
    if query.extra_kinds:
        where.append(f"i.extra_kind = ANY({a.add(list(query.extra_kinds))}::text[])")
    if query.season_number is not None:
        where.append(f"i.parent_index_number = {a.add(query.season_number)}")
    if query.played is not None:
        where.append(_IS_PLAYED if query.played else f"NOT {_IS_PLAYED}")
    if query.favorite is not None:
        term = _USER_DATA_HAS.format(item="i", cond="x.is_favorite")
        where.append(term if query.favorite else f"NOT {term}")
    if query.resumable is not None:
        term = _USER_DATA_HAS.format(item="i", cond="x.position_seconds > 0 AND NOT x.played")
        where.append(term if query.resumable else f"NOT {term}")


async def get(conn: Conn, user: User, item_id: str) -> dict[str, Any]:
    """The item with its streams, children count, images and the caller's user data.

    :raises NotFound: absent, not visible to ``user``, or a malformed id.
    """
    item_id = parse_id(item_id)
    visible = await visible_library_ids(conn, user)
    row = await conn.fetchrow(_DETAIL, user.id, item_id, visible)
    if row is None:
        raise NotFound("item not found")
    item = _item(row)
    if not user.is_admin:
        item.pop("path")
    item["streams"] = [row_dict(r) for r in await conn.fetch(_STREAMS, item_id)]
    return item


async def resume(conn: Conn, user: User, limit: int = 12) -> list[dict[str, Any]]:
    """Continue watching: partly watched, unplayed items, most recently played first."""
    visible = await visible_library_ids(conn, user)
    return [_item(r) for r in await conn.fetch(_RESUME, user.id, visible, limit)]


async def resume_page(
    conn: Conn, user: User, *, offset: int = 0, limit: int = 12, library_id: str | None = None,
    types: tuple[str, ...] = (), q: str | None = None,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """A page of :func:`resume` (same order) and its total, optionally for one library, some types, or a
    name containing ``q``. :raises NotFound: if ``library_id`` is not visible.
    """
    visible = await library_scope(conn, user, library_id)
    a = Args(user.id, visible)
    where = ""
    if types:
        where += f" AND i.type = ANY({a.add(list(types))}::text[])"
    if q:
        where += f" AND lower(i.name) LIKE {a.add(_like(q))}"
    total = await conn.fetchval(f"SELECT count(*) {_RESUME_FROM} {where}", *a.values)
    if offset >= total:
        return [], total
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} {_RESUME_FROM} {where} ORDER BY u0.last_played_at DESC NULLS LAST, i.id "
        f"OFFSET {a.add(offset)} LIMIT {a.add(limit)}", *a.values)  # fmt: skip
    return [_item(r) for r in rows], total


async def library_scope(conn: Conn, user: User, library_id: str | None) -> list[str]:
    """The caller's library ids, or just ``library_id``. :raises NotFound: if that one is not visible."""
    visible = await visible_library_ids(conn, user)
    if library_id is not None:
        library_id = parse_id(library_id, "library")
        if library_id not in visible:
            raise NotFound("library not found")
        visible = [library_id]
    return visible


async def latest(conn: Conn, user: User, library_id: str | None = None, limit: int = 16, *,
                 types: tuple[str, ...] = LEAF_TYPES, group: bool = True,
                 played: bool | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Recently added, newest first; a show's new episodes are grouped (see ``_LATEST``) unless
    ``group`` is false. ``types`` narrows the leaves looked at; ``played`` keeps only played (or unplayed) ones.

    Each dict also has ``added_count``. :raises NotFound: if ``library_id`` is not visible.
    """
    visible = await library_scope(conn, user, library_id)
    leaf_types = [t for t in types if t in LEAF_TYPES]
    if not leaf_types:
        return []
    rows = await conn.fetch(_LATEST, user.id, visible, limit, leaf_types, group, played)
    return [_item(r) for r in rows]


async def streams_for(conn: Conn, item_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The media streams of several items in one query: ``{item_id: [stream, ...]}`` (ids already visible)."""
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    for r in await conn.fetch(_STREAMS_OF, item_ids):
        d = row_dict(r)
        out.setdefault(d.pop("item_id"), []).append(d)
    return out


async def folder_counts(conn: Conn, user: User, item_id: str) -> dict[str, int | None]:
    """``{leaf_count, unplayed_count}`` of a series or season for the caller (``None`` for other items)."""
    row = await conn.fetchrow(f"SELECT {_FOLDER_COUNTS} FROM media_items i WHERE i.id = $2::uuid",
                              user.id, parse_id(item_id))  # fmt: skip
    return {"leaf_count": None, "unplayed_count": None} if row is None else dict(row)


async def image(conn: Conn, user: User, item_id: str, kind: str) -> dict[str, Any]:
    """The ``images`` row (``object_key, content_type, width, height, updated_at``) of a visible item.

    :raises NotFound: unknown kind, invisible item or no such image.
    """
    item_id = parse_id(item_id)
    if kind not in ("primary", "backdrop", "thumb"):
        raise NotFound("image not found")
    visible = await visible_library_ids(conn, user)
    row = await conn.fetchrow(
        """
        SELECT m.object_key, m.content_type, m.width, m.height, m.updated_at
        FROM images m JOIN media_items i ON i.id = m.item_id
        WHERE m.item_id = $1::uuid AND m.kind = $2 AND i.library_id = ANY($3::uuid[])
        """,
        item_id, kind, visible,
    )  # fmt: skip
    if row is None:
        raise NotFound("image not found")
    return dict(row)


async def counts(conn: Conn, user: User, *, favorite: bool | None = None) -> dict[str, int]:
    """How many items of each type the caller can see: ``{type: n}`` (only favourites, or only others)."""
    visible = await visible_library_ids(conn, user)
    fav = ""
    if favorite is not None:
        fav = ("AND " if favorite else "AND NOT ") + _USER_DATA_HAS.format(item="i", cond="x.is_favorite")
    rows = await conn.fetch(
        f"SELECT i.type, count(*) AS n FROM media_items i WHERE $1::uuid IS NOT NULL "
        f"AND i.library_id = ANY($2::uuid[]) {fav} GROUP BY i.type",
        user.id, visible,
    )  # fmt: skip
    return {r["type"]: r["n"] for r in rows}


async def facets(conn: Conn, user: User, *, library_id: str | None = None, parent_id: str | None = None,
                 types: tuple[str, ...] = ()) -> dict[str, list[Any]]:  # fmt: skip
    """``{genres, years}`` found among the visible items of a library, below a parent, or everywhere.

    :raises NotFound: if ``library_id`` or ``parent_id`` is not visible.
    """
    visible = await library_scope(conn, user, library_id)
    a = Args(visible)
    where = ["i.library_id = ANY($1::uuid[])"]
    if parent_id:
        if not await conn.fetchval(
            "SELECT 1 FROM media_items WHERE id = $1::uuid AND library_id = ANY($2::uuid[])", parent_id, visible
        ):
            raise NotFound("parent item not found")
        pp = a.add(parent_id)
        where.append(f"(i.parent_id = {pp}::uuid OR i.parent_id IN (SELECT c.id FROM media_items c "
                     f"WHERE c.parent_id = {pp}::uuid))")  # fmt: skip
    if types:
        where.append(f"i.type = ANY({a.add(list(types))}::text[])")
    where_sql = " AND ".join(where)
    row = await conn.fetchrow(
        f"""SELECT ARRAY(SELECT DISTINCT g FROM media_items i, unnest(i.genres) g WHERE {where_sql}
                         ORDER BY g) AS genres,
                   ARRAY(SELECT DISTINCT i.year FROM media_items i WHERE {where_sql} AND i.year IS NOT NULL
                         ORDER BY i.year) AS years""",
        *a.values,
    )  # fmt: skip
    assert row is not None
    return {"genres": list(row["genres"]), "years": list(row["years"])}
