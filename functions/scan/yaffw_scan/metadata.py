"""An item's descriptive fields, merged from three sources in order of trust: the ``.nfo`` sidecar,
the container's embedded tags, and the guess from the path."""

from __future__ import annotations

import os
import re
from typing import Any

from yaffw.media.probe import MediaInfo
from yaffw.naming.identify import air_date

from yaffw_scan.identify import NAMING_VERSION, Guess, clean, sort_name, split_year
from yaffw_scan.nfo import Nfo


def _tag_year(tags: dict[str, str]) -> int | None:
    match = re.match(r"\s*((?:18|19|20)\d{2})", tags.get("date") or tags.get("year") or "")
    return int(match.group(1)) if match else None


def _tag_genres(tags: dict[str, str]) -> list[str]:
    return [g for g in re.split(r"\s*[;/,|]\s*", tags.get("genre") or "") if g]


def describe_media(path: str, guess: Guess, nfo: Nfo | None, media: MediaInfo) -> dict[str, Any]:
    """``media_items`` fields (other than file facts and parent) for a movie or an episode."""
    tags = media.tags
    nfo = nfo or Nfo()
    if guess.type == "episode":
        episode = nfo.episode if nfo.episode is not None else guess.episode
        season = nfo.season if nfo.season is not None else guess.season
        # An episode file's embedded title is usually the episode's name ("Pilot"); a film's is
        # often a release name, so films trust the path instead.
        name = nfo.title or guess.name or tags.get("title") or (f"Episode {episode}" if episode is not None else None)
        fields: dict[str, Any] = {"type": "episode", "index_number": episode, "parent_index_number": season}
        if name is None and guess.air_date is not None:
            name = guess.air_date  # a daily show's episode with no title: its air date
    elif guess.type == "extra":
        # An extra is a plain video that belongs to something (owner_id is set by the scanner).
        name = nfo.title or guess.name
        fields = {"type": "video", "index_number": None, "parent_index_number": None, "extra_kind": guess.extra_kind}
    else:
        name = nfo.title or guess.name
        fields = {"type": "movie", "index_number": None, "parent_index_number": None}
    name = name or clean(os.path.splitext(os.path.basename(path))[0]) or os.path.basename(path)
    fields.update(
        name=name,
        # Daily shows sort by air date whatever their titles ("2023-07-14 Guest").
        sort_name=sort_name(f"{guess.air_date} {name}" if guess.air_date else name),
        air_date=air_date(guess),
        naming_version=NAMING_VERSION,
        original_title=nfo.original_title,
        year=nfo.year or guess.year or _tag_year(tags),
        plot=nfo.plot or tags.get("description") or tags.get("synopsis") or tags.get("comment") or None,
        genres=list(nfo.genres) or _tag_genres(tags),
        rating=nfo.rating,
        container=media.container,
        duration_seconds=media.duration_seconds,
        file_duration_seconds=media.duration_seconds,  # a joined film's duration_seconds is its parts' sum
        bitrate=media.bitrate,
    )
    return fields


def describe_series(path: str, nfo: Nfo | None) -> dict[str, Any]:
    """Fields of a series row (its folder name, improved by ``tvshow.nfo``)."""
    title, year = split_year(os.path.basename(path))
    nfo = nfo or Nfo()
    name = nfo.title or title or os.path.basename(path)
    return {
        "type": "series", "name": name, "sort_name": sort_name(name), "original_title": nfo.original_title,
        "year": nfo.year or year, "plot": nfo.plot, "genres": list(nfo.genres), "rating": nfo.rating,
        "index_number": None, "path": path,
    }  # fmt: skip


def describe_season(path: str, number: int | None, nfo: Nfo | None) -> dict[str, Any]:
    """Fields of a season row: "Season N" / "Specials", or the folder's name if it has no number."""
    nfo = nfo or Nfo()
    default = "Specials" if number == 0 else f"Season {number}" if number is not None else os.path.basename(path)
    name = nfo.title or default
    return {
        "type": "season", "name": name, "sort_name": sort_name(f"{number:04d}" if number is not None else name),
        "original_title": None, "year": nfo.year, "plot": nfo.plot, "genres": list(nfo.genres),
        "rating": nfo.rating, "index_number": number, "path": path,
    }  # fmt: skip
