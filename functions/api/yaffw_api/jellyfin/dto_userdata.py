"""``UserItemDataDto``: a user's play state for one item, from yaffw's user-data dict
(``{played, position_seconds, favorite, play_count, last_played_at}``, see ``yaffw.userdata``).
"""

from __future__ import annotations

from typing import Any

from yaffw_api.jellyfin.wire import date, jf_id, ticks


def user_data_dto(data: dict[str, Any] | None, item_id: str, duration_seconds: float | None = None,
                  unplayed_item_count: int | None = None) -> dict[str, Any]:  # fmt: skip
    """The DTO Jellyfin clients read for resume points, watched ticks and hearts."""
    data = data or {}
    position = float(data.get("position_seconds") or 0.0)
    percentage = None
    if position > 0 and duration_seconds:
        percentage = min(100.0, 100.0 * position / duration_seconds)
    key = jf_id(item_id)
    return {
        "PlayedPercentage": percentage, "UnplayedItemCount": unplayed_item_count,
        "PlaybackPositionTicks": ticks(position) or 0, "PlayCount": int(data.get("play_count") or 0),
        "IsFavorite": bool(data.get("favorite")), "LastPlayedDate": date(data.get("last_played_at")),
        "Played": bool(data.get("played")), "Key": key, "ItemId": key,
    }  # fmt: skip
