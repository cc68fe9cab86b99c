"""Kodi-style ``.nfo`` sidecars: ``<movie>``, ``<tvshow>``, ``<episodedetails>``, ``<season>``.

Only what we store is read: title, original title, year, plot, genres, rating, season and episode
numbers. A malformed nfo is ignored (logged), never fatal: the path guess still names the item.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024
_ROOTS = ("movie", "tvshow", "episodedetails", "season", "musicvideo")
_CLOSING = re.compile("</(" + "|".join(_ROOTS) + ")>")


@dataclass(frozen=True)
class Nfo:
    """Fields found in an nfo file (``None``/empty when absent)."""

    title: str | None = None
    original_title: str | None = None
    year: int | None = None
    plot: str | None = None
    genres: tuple[str, ...] = ()
    rating: float | None = None
    season: int | None = None
    episode: int | None = None


def _text(root: ET.Element, tag: str) -> str | None:
    node = root.find(tag)
    text = (node.text or "").strip() if node is not None else ""
    return text or None


def _int(text: str | None) -> int | None:
    match = re.match(r"\s*(\d{1,4})", text or "")
    return int(match.group(1)) if match else None


def _rating(root: ET.Element) -> float | None:
    # <rating>7.4</rating>, or Kodi v17+: <ratings><rating default="true"><value>7.4</value>...
    candidates = [_text(root, "rating")]
    ratings = root.findall("ratings/rating")
    ratings.sort(key=lambda r: r.get("default") != "true")
    candidates += [_text(r, "value") for r in ratings]
    for text in candidates:
        try:
            value = float(text or "")
        except ValueError:
            continue
        if 0 <= value <= 10:
            return round(value, 2)
    return None


def parse(text: str) -> Nfo | None:
    """Parse nfo text; ``None`` when it holds no XML we understand (e.g. only a URL)."""
    start, end = text.find("<"), text.rfind(">")
    if start < 0 or end < start:
        return None
    try:
        root = ET.fromstring(text[start : end + 1])
    except ET.ParseError:
        # Kodi allows a URL line after the XML; cut at the root's closing tag and retry.
        match = _CLOSING.search(text)
        if match is None:
            return None
        try:
            root = ET.fromstring(text[start : match.end()])
        except ET.ParseError:
            return None
    if root.tag not in _ROOTS:
        return None
    year = _int(_text(root, "year")) or _int(_text(root, "premiered")) or _int(_text(root, "aired"))
    genres: list[str] = []
    for node in root.findall("genre"):
        # Some tools write one <genre> with "Drama / Comedy".
        for part in re.split(r"\s*[/|]\s*", (node.text or "").strip()):
            if part and part not in genres:
                genres.append(part)
    return Nfo(
        title=_text(root, "title"),
        original_title=_text(root, "originaltitle"),
        year=year if year and 1800 <= year <= 2200 else None,
        plot=_text(root, "plot") or _text(root, "outline"),
        genres=tuple(genres),
        rating=_rating(root),
        season=_int(_text(root, "season")),
        episode=_int(_text(root, "episode")),
    )


def read(path: str) -> Nfo | None:
    """Read and parse ``path``; ``None`` if unreadable, too big or not an nfo we understand."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    if len(raw) > MAX_BYTES:
        log.warning("ignoring %s: larger than %d bytes", path, MAX_BYTES)
        return None
    result = parse(raw.decode("utf-8", "replace"))
    if result is None:
        log.info("ignoring %s: no movie/tvshow/episode XML in it", path)
    return result
