"""Season folders: which season a folder name stands for.

Follows Jellyfin's ``SeasonPathParser``: the season word in the languages it knows before or after
the number (``Season 2``, ``Staffel 2``, ``3.Staffel``, ``2nd Season``, ``Сезон 5``, ``시즌 2``),
anything after the number ignored (``Season 7 (2016)``, ``Season 1 - Pilot Arc``), ``Specials`` as
season 0, ``S01``, a release name with a season and no episode (``The.Show.S04.PDTV.x264-GRP``) and,
where the caller allows it (shows libraries, below a series folder), a bare number (``2``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaffw.naming.text import clean

_KEYWORDS = (
    r"season|seasons|series|saison|staffel|stagione|temporada|säsong|sæson|sesong|seizoen|sezon|sezona|sezóna|"
    r"sezonul|série|séria|serie|seria|kausi|évad|сезон|시즌|シーズン|季"
)
_SPECIALS = re.compile(r"^\s*(?:specials?|special episodes|season[ ._-]*0+|extras? season)\s*$", re.I)
# "Season 2", "Staffel_02", "Season.7 (2016)": the keyword, then the number, then anything but an episode.
_KEYWORD_FIRST = re.compile(
    rf"^(?P<series>.*?)(?:^|[\s._\-\[(])(?:{_KEYWORDS})[\s._-]*(?P<n>\d{{1,4}})(?!\d|\s*[e×x]\d)(?P<rest>.*)$", re.I
)
# "3.Staffel", "2nd Season", "1 сезон".
_NUMBER_FIRST = re.compile(rf"^\s*(?P<n>\d{{1,4}})(?:st|nd|rd|th|\.|-?й|-?я)?[\s._-]*(?:{_KEYWORDS})\s*$", re.I)
# "S01", "s1", "The.Show.S04.PDTV.x264-GRP", "Show.Name.S01.1080p.WEB": S and a number, no episode.
_S_NUMBER = re.compile(r"(?:^|(?<=[\s._\-\[(]))[sS](?P<n>\d{1,4})(?![0-9]|[eExX]\d|\s*[eE]\d)(?=[\s._\-\[\])]|$)")
_BARE = re.compile(r"^\s*(?P<n>\d{1,4})\s*$")


@dataclass(frozen=True, slots=True)
class SeasonFolder:
    """A season folder's number, and the series name when the folder also names one (release names)."""

    number: int
    series: str | None = None


def parse_season_folder(name: str, *, bare_numbers: bool = False) -> SeasonFolder | None:
    """The season ``name`` stands for, or None when it is not a season folder.

    ``bare_numbers`` lets a folder called ``2`` be season 2 (Jellyfin does so in shows libraries only:
    a film collection folder may well be called ``1984``).
    """
    if _SPECIALS.match(name):
        return SeasonFolder(0)
    match = _NUMBER_FIRST.match(name)
    if match:
        return SeasonFolder(int(match.group("n")))
    match = _KEYWORD_FIRST.match(name)
    if match:
        return SeasonFolder(int(match.group("n")), clean(match.group("series")) or None)
    match = _S_NUMBER.search(name)
    if match:
        return SeasonFolder(int(match.group("n")), clean(name[: match.start()]) or None)
    match = _BARE.match(name) if bare_numbers else None
    if match:
        return SeasonFolder(int(match.group("n")))
    return None


def season_number(name: str, *, bare_numbers: bool = False) -> int | None:
    """Just the number of :func:`parse_season_folder` (``Season 01`` → 1, ``Specials`` → 0)."""
    found = parse_season_folder(name, bare_numbers=bare_numbers)
    return found.number if found else None
