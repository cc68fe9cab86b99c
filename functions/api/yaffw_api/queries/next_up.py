"""Next up: for each series the caller has watched something of, the first unplayed episode after the
last played one (by season and episode number; specials, season 0, left out), most recently watched
series first. This is Jellyfin's rule (``TVSeriesManager.GetNextUp``), kept here so ``/api`` and the
Jellyfin surface answer the same.
"""

from __future__ import annotations

from datetime import datetime

from yaffw_api.auth import User
from yaffw_api.queries._rows import Conn
from yaffw_api.queries.items import library_scope

# $1 user, $2 visible library ids, $3 one series (or NULL), $4 watched since (or NULL), $5 resumable allowed.
# An episode's season number is its own parent_index_number, else its season's index_number. Order keys
# are (season, episode, sort name, id), so episodes without numbers still have a place.
_NEXT_UP = """
WITH played AS (
    SELECT CASE WHEN p.type = 'season' THEN p.parent_id ELSE p.id END AS series_id,
           COALESCE(i.parent_index_number, CASE WHEN p.type = 'season' THEN p.index_number END) AS season_no,
           i.index_number AS ep_no, i.sort_name, i.id, u.last_played_at
    FROM user_item_data u
    JOIN media_items i ON i.id = u.item_id AND i.type = 'episode'
    JOIN media_items p ON p.id = i.parent_id
    WHERE u.user_id = $1::uuid AND u.played AND i.library_id = ANY($2::uuid[])
), last AS (
    SELECT DISTINCT ON (series_id) series_id, sk, ek, sort_name, id FROM (
        SELECT series_id, COALESCE(season_no, 0) AS sk, COALESCE(ep_no, 0) AS ek, sort_name, id
        FROM played WHERE season_no IS DISTINCT FROM 0 AND ($3::uuid IS NULL OR series_id = $3::uuid)
        UNION ALL  -- a series asked for by id starts at its first episode when nothing of it was played
        SELECT $3::uuid, -2147483648, -2147483648, '', '00000000-0000-0000-0000-000000000000'::uuid
        WHERE $3::uuid IS NOT NULL
    ) candidates
    ORDER BY series_id, sk DESC, ek DESC, sort_name DESC, id DESC
), watched AS (
    SELECT series_id, max(last_played_at) AS watched FROM played GROUP BY series_id
)
SELECT n.id
FROM last l
LEFT JOIN watched w ON w.series_id = l.series_id
CROSS JOIN LATERAL (
    SELECT e.id FROM media_items e LEFT JOIN media_items es ON es.id = e.parent_id AND es.type = 'season'
    WHERE e.type = 'episode' AND e.library_id = ANY($2::uuid[])
      AND e.parent_id IN (SELECT l.series_id UNION ALL
                          SELECT s.id FROM media_items s WHERE s.parent_id = l.series_id AND s.type = 'season')
      AND COALESCE(e.parent_index_number, es.index_number) IS DISTINCT FROM 0
      AND (COALESCE(e.parent_index_number, es.index_number, 0), COALESCE(e.index_number, 0), e.sort_name, e.id)
          > (l.sk, l.ek, l.sort_name, l.id)
      AND NOT EXISTS (SELECT 1 FROM user_item_data x WHERE x.item_id = e.id AND x.user_id = $1::uuid AND x.played)
    ORDER BY COALESCE(e.parent_index_number, es.index_number, 0), COALESCE(e.index_number, 0), e.sort_name, e.id
    LIMIT 1
) n
WHERE ($4::timestamptz IS NULL OR w.watched >= $4::timestamptz)
  AND ($5::bool OR NOT EXISTS (
      SELECT 1 FROM user_item_data r WHERE r.item_id = n.id AND r.user_id = $1::uuid AND r.position_seconds > 0))
ORDER BY w.watched DESC NULLS LAST, l.series_id
"""


async def next_up(conn: Conn, user: User, *, series_id: str | None = None, library_id: str | None = None,
                  since: datetime | None = None, resumable: bool = True) -> list[str]:  # fmt: skip
    """Ids of the next episodes to watch, most recently watched series first.

    ``series_id`` narrows to one series (its first episode when none was played), ``library_id`` to one
    library, ``since`` to series watched since then; ``resumable=False`` leaves out a series whose next
    episode is partly watched. :raises NotFound: if ``library_id`` is not visible.
    """
    visible = await library_scope(conn, user, library_id)
    rows = await conn.fetch(_NEXT_UP, user.id, visible, series_id, since, resumable)
    return [str(r["id"]) for r in rows]
