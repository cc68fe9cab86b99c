"""Episode numbers in a file name: season, episode (or a range), air date, and what names the series.

The forms, strongest first (after Jellyfin's ``EpisodeExpressions`` and ``MultipleEpisodeExpressions``
in ``Emby.Naming/Common/NamingOptions.cs``; the regexes here are our own):

1. ``S01E02``, ``s01.e02``, ``S01 E02``, ``S01x02``, ``S01xE02`` — ranges ``S01E23-E24-E26``, ``S01E01E02``,
   ``S01E01-02``;
2. ``1x02``, ``2009x02`` — ranges ``02x03-04-15``, ``02x03 - x04 - x15``;
3. ``Season 3 Episode 9``;
4. an air date, ``2023-07-14``, ``2023.07.14``, ``2023 07 14``, ``14.07.2023`` (daily shows);
5. ``Episode 16``, ``Ep 16``, ``.E07.``;
6. a bracketed number after the title, ``[Group] Show [21][BDRip]``;
7. (shows libraries and season folders only) plain numbers: ``Show - 136 [720p]``, ``Show - 012 - Title``
   and ``One Piece 1001`` (absolute numbers), ``Show.102.HDTV`` and a bare ``102`` (season 1 episode 2),
   ``02 - Title`` and ``02-04`` (episodes of the folder's season).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from yaffw.naming.text import clean, strip_group, strip_ids

_SXXEYY = re.compile(r"(?<![a-z0-9])s(?P<s>\d{1,4})(?:[ ._-]*e|x[ ._-]?e?)[ ._-]?(?P<e>\d{1,4})(?!\d)", re.I)
_NXNN = re.compile(r"(?<![a-z0-9])(?P<s>\d{1,4})x(?P<e>\d{1,3})(?!\d)", re.I)
_WORDS = re.compile(r"(?<![a-z0-9])season[ ._-]*(?P<s>\d{1,4})[ ._-]*(?:episode|ep)[ ._-]*(?P<e>\d{1,4})(?!\d)", re.I)
# A later episode of a range, right after the first: "-E24", "E02", " - x04", "-04" (not "-720p").
_RANGE_END = re.compile(r"(?:\s?-\s?)?[ex](?P<n>\d{1,4})(?!\d)|-(?P<m>\d{1,4})(?![\dpi])", re.I)
_DATE_YMD = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[._ -](?P<m>\d{2})[._ -](?P<d>\d{2})(?!\d)")
_DATE_DMY = re.compile(r"(?<!\d)(?P<d>\d{2})[._ -](?P<m>\d{2})[._ -](?P<y>(?:19|20)\d{2})(?!\d)")
_EPISODE_WORD = re.compile(r"(?<![a-z0-9])(?:episode|ep|e)[ ._-]?(?P<e>\d{1,4})(?!\d|p\b)", re.I)
_BRACKET_NUMBER = re.compile(r"\[(?P<e>\d{1,4})\]")
# "Show - 136 [720p]", "Show - 012 - Title", "Show - 01v2".
_DASH_NUMBER = re.compile(
    r"^(?P<series>.+?)\s+-\s+(?P<e>\d{1,4})(?:-(?P<end>\d{1,4}))?(?:v\d)?(?:\s+-\s+(?P<title>.+)|\s*(?P<tail>[\[(].*))?$"
)
# "Show.102.HDTV.x264": season and episode run together in a dotted release name.
_DOTTED_NUMBER = re.compile(r"^(?P<series>[^ ]+?)[._](?P<e>\d{3,4})(?:[._](?P<title>[^ ]*))?$")
# "One Piece 1001", "Show 12".
_TRAILING_NUMBER = re.compile(
    r"^(?P<series>.*[^\d\s-])\s+(?P<e>\d{1,4})(?:-(?P<end>\d{1,4}))?(?:\s*(?P<tail>[\[(].*))?$"
)
# "02", "02 - Title", "02-04", "01.Title".
_LEADING_NUMBER = re.compile(r"^(?P<e>\d{1,4})(?:-(?P<end>\d{1,4}))?(?:\s*-\s*(?P<title>.+)|[ ._](?P<rest>.+))?$")


@dataclass(frozen=True, slots=True)
class EpisodeMatch:
    """What a file name says about an episode. ``series`` is the text before the numbers (not yet a
    clean name), ``title`` the episode's name after them; ``absolute`` when the number counts across
    seasons (anime), so no season follows from it."""

    season: int | None = None
    episode: int | None = None
    episode_end: int | None = None
    air_date: dt.date | None = None
    series: str | None = None
    title: str | None = None
    absolute: bool = False


def _range_end(text: str, pos: int, first: int) -> tuple[int | None, int]:
    """The last episode of a range starting at ``text[pos:]`` (and where the range ends)."""
    end = None
    while match := _RANGE_END.match(text, pos):
        end = int(match.group("n") or match.group("m"))
        pos = match.end()
    if end is not None and not first < end <= first + 200:
        end = None  # "S01E05-03" or "E01-720": not a range
    return end, pos


def _title(text: str | None) -> str | None:
    return clean(text, junk_only_is_empty=True) or None if text else None


def _date(y: str, m: str, d: str) -> dt.date | None:
    try:
        return dt.date(int(y), int(m), int(d))
    except ValueError:
        return None


def _split_number(n: int, folder_season: int | None) -> tuple[int | None, int]:
    """A 3–4 digit number as season and episode (``102`` → 1, 2; ``1012`` → 10, 12) when it fits the
    folder's season (or there is none); else an absolute episode number."""
    if n >= 100 and (folder_season is None or n // 100 == folder_season) and n % 100 and not 1900 <= n <= 2099:
        return n // 100, n % 100
    return None, n


def parse_episode(stem: str, *, numbers: bool = False, folder_season: int | None = None) -> EpisodeMatch | None:
    """The episode a file name (``stem``, no extension) stands for, or None.

    ``numbers`` allows the weak forms (4–7: air dates, episode words, plain numbers): in shows libraries,
    where every file is an episode, and in season folders. ``folder_season`` is the season of the folder the file
    lies in, if any; it decides what a 3-digit number means.
    """
    text = strip_group(strip_ids(stem)).strip()
    for pattern in (_SXXEYY, _NXNN, _WORDS):
        match = pattern.search(text)
        if match:
            first = int(match.group("e"))
            end, pos = _range_end(text, match.end(), first)
            return EpisodeMatch(int(match.group("s")), first, end, None, text[: match.start()], _title(text[pos:]))
    if not numbers:
        return None
    for pattern in (_DATE_YMD, _DATE_DMY):
        match = pattern.search(text)
        if match and (day := _date(match.group("y"), match.group("m"), match.group("d"))):
            return EpisodeMatch(None, None, None, day, text[: match.start()], _title(text[match.end() :]))
    match = _EPISODE_WORD.search(text)
    if match:
        first = int(match.group("e"))
        end, pos = _range_end(text, match.end(), first)
        return EpisodeMatch(None, first, end, None, text[: match.start()], _title(text[pos:]), folder_season is None)
    match = _BRACKET_NUMBER.search(text)
    if match and match.start() > 0 and not 1900 <= int(match.group("e")) <= 2099:
        return EpisodeMatch(None, int(match.group("e")), None, None, text[: match.start()], None, True)
    return _plain_number(text, folder_season)


def _plain_number(text: str, folder_season: int | None) -> EpisodeMatch | None:
    """The weak forms: numbers with nothing saying they are episodes but the library or the folder."""
    match = _DASH_NUMBER.match(text)
    if match:
        season, episode = _in_season(int(match.group("e")), folder_season)
        end = _end(match.group("end"), episode)
        return EpisodeMatch(season, episode, end, None, match.group("series"), _title(match.group("title")), True)
    match = _DOTTED_NUMBER.match(text) if " " not in text else None
    if match and not 1900 <= int(match.group("e")) <= 2099:
        season, episode = _split_number(int(match.group("e")), folder_season)
        return EpisodeMatch(season, episode, None, None, match.group("series"), None, season is None)
    match = _TRAILING_NUMBER.match(text)
    if match and not 1900 <= int(match.group("e")) <= 2099:
        season, episode = _in_season(int(match.group("e")), folder_season)
        end = _end(match.group("end"), episode)
        return EpisodeMatch(season, episode, end, None, match.group("series"), None, True)
    match = _LEADING_NUMBER.match(text)
    if match and not 1900 <= int(match.group("e")) <= 2099:
        n = int(match.group("e"))
        season, episode = _split_number(n, folder_season) if n >= 100 else (None, n)
        end = _end(match.group("end"), episode)
        title = _title(match.group("title") or match.group("rest"))
        return EpisodeMatch(season, episode, end, None, None, title, season is None and folder_season is None)
    return None


def _in_season(n: int, folder_season: int | None) -> tuple[int | None, int]:
    """An absolute number, unless it is clearly the folder's season and an episode (``Season 1/Show 102``)."""
    if folder_season is not None and n >= 100 and n // 100 == folder_season and n % 100:
        return folder_season, n % 100
    return None, n


def _end(text: str | None, first: int) -> int | None:
    end = int(text) if text else None
    return end if end is not None and first < end <= first + 200 else None
