"""Guess what a media file is from its path alone (no I/O, no network): a film, an episode or an extra.

The rules are Jellyfin's naming conventions (its user docs on movies and shows, and ``Emby.Naming``),
with Kodi's where Jellyfin is silent; each kind of name has its own module in this package. The
order of the questions asked of a path:

1. Inside a ``VIDEO_TS``/``BDMV`` structure: a film named by the folder that holds it.
2. In an extras folder (``trailers/``, ``featurettes/``...) or named with an extra's suffix
   (``-trailer``...): an extra of the film, series or season the folder or name points to.
3. (Not in films libraries) in a season folder, or named with episode numbers, or anywhere in a
   shows library: an episode, with its series and season folders (made up when the file lies loose,
   so that series and seasons are still one row each).
4. Otherwise a film, with its part (``cd1``) and version (``- 1080p``) if the name has them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePath

from yaffw.naming import extras
from yaffw.naming.episodes import EpisodeMatch, parse_episode
from yaffw.naming.movies import is_disc_folder, movie_name
from yaffw.naming.parts import split_part
from yaffw.naming.seasons import SeasonFolder, parse_season_folder
from yaffw.naming.text import clean, split_year, strip_ids
from yaffw.naming.versions import split_version

KINDS = ("movies", "shows", "mixed")
# Raise when the rules change what an existing name means: the scan reads every file identified by
# older rules once more (``media_items.naming_version``), so libraries are re-identified by a rescan.
NAMING_VERSION = 2  # 2: parts and versions of one film are joined into one item


@dataclass(frozen=True)
class Guess:
    """What a path looks like.

    ``type`` is ``movie``, ``episode`` or ``extra``. ``series_path``/``season_path`` are absolute
    folder paths (maybe made up) that identify the series and season rows; None where there is no
    such level. An extra's ``owner_path`` is the folder of what it belongs to (a film's folder, a
    series or season folder) and ``owner_name`` the film's file name when the extra is named after
    it (``Film (2000)-trailer.mkv`` → ``Film (2000)``). ``air_date`` is ISO (``2023-07-14``).
    """

    type: str
    name: str | None
    year: int | None = None
    series: str | None = None
    series_year: int | None = None
    series_path: str | None = None
    season: int | None = None
    season_path: str | None = None
    episode: int | None = None
    episode_end: int | None = None
    air_date: str | None = None
    extra_kind: str | None = None
    owner_path: str | None = None
    owner_name: str | None = None
    part: int | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class _Show:
    series: str | None
    series_year: int | None
    series_path: str
    season: int | None
    season_path: str | None


def identify(path: str | PurePath, *, root: str | PurePath | None = None, kind: str = "mixed") -> Guess:
    """Guess a film, an episode or an extra from ``path`` (under library folder ``root``, in a library
    of ``kind``: movies, shows or mixed). Never raises for odd names: the worst guess is a film named
    after the file."""
    file = PurePath(path)
    base = PurePath(root) if root is not None else file.parent
    try:
        dirs = file.parent.relative_to(base).parts
    except ValueError:
        dirs = ()
    disc = next((i for i, d in enumerate(dirs) if d.lower() in ("video_ts", "bdmv")), None)
    if disc is not None:
        name, year = movie_name(dirs[disc - 1] if disc else dirs[disc], None)
        return Guess("movie", name, year)
    extra = _extra(file, base, dirs, kind)
    if extra is not None:
        return extra
    if kind != "movies":
        episode = _episode(file, base, dirs, kind)
        if episode is not None:
            return episode
    return _movie(file.stem, dirs)


def _movie(stem: str, dirs: tuple[str, ...]) -> Guess:
    folder = next((d for d in reversed(dirs) if not is_disc_folder(d)), None)
    name, part = split_part(stem)
    name, version = split_version(name, folder)
    title, year = movie_name(name, folder)
    return Guess("movie", title, year, part=part, version=version)


def _extra(file: PurePath, base: PurePath, dirs: tuple[str, ...], kind: str) -> Guess | None:
    """An extra by its folder (which must lie in something it belongs to) or by its name's suffix."""
    folder_kind = extras.kind_of_folder(dirs[-1]) if len(dirs) >= 2 else None
    if folder_kind is not None:
        owner_dirs, owner_name, extra_kind = dirs[:-1], None, folder_kind
        name = clean(file.stem) or file.stem
    else:
        suffix = extras.kind_of_suffix(strip_ids(file.stem).strip())
        if suffix is None:
            return None
        extra_kind, owner_name = suffix
        owner_dirs, name = dirs, extras.LABELS[extra_kind]  # "Film (2000)-trailer" is the film's "Trailer"
    show = _show(base, owner_dirs, kind, None) if kind != "movies" and owner_dirs else None
    if show is not None and kind == "mixed" and show.season is None:
        show = None  # a mixed library's folder is a film's folder unless it is a season's
    return Guess(
        "extra", name, None,
        show.series if show else None, show.series_year if show else None, show.series_path if show else None,
        show.season if show else None, show.season_path if show else None,
        extra_kind=extra_kind, owner_path=str(base.joinpath(*owner_dirs)), owner_name=owner_name,
    )  # fmt: skip


def _season_folder(dirs: tuple[str, ...], kind: str) -> tuple[int, SeasonFolder] | None:
    """The deepest season folder of ``dirs`` and where it is. A bare number (``2``) counts only in a
    shows library, as the file's own folder, below a series folder (the show "24" is not a season)."""
    for i in range(len(dirs) - 1, -1, -1):
        bare = kind == "shows" and i == len(dirs) - 1 and i >= 1
        found = parse_season_folder(dirs[i], bare_numbers=bare)
        if found is not None and (i >= 1 or found.series or kind != "shows" or len(dirs) == 1):
            return i, found
    return None


def _show(base: PurePath, dirs: tuple[str, ...], kind: str, match: EpisodeMatch | None) -> _Show | None:
    """Series and season of a file in ``dirs`` (None in a mixed library when nothing says "show")."""
    season_at = _season_folder(dirs, kind)
    if season_at is None and match is None and kind != "shows":
        return None
    season = match.season if match else None
    if match and match.air_date and season is None:
        season = match.air_date.year  # daily shows: a season per year, as TheTVDB and Kodi have them
    season_path: PurePath | None = None
    made_up = match.series if match and match.series and match.series.strip(" -._") else None
    if season_at is not None:
        index, folder = season_at
        season, season_path = folder.number, base.joinpath(*dirs[: index + 1])  # the folder wins
        series_dirs = dirs[:index]
        if not series_dirs and folder.series:
            made_up = folder.series  # a release-named folder, "The.Show.S01": series and season in one
    elif kind == "shows":
        series_dirs = dirs[:1]
    else:
        series_dirs = dirs
    if series_dirs:
        series_path = base.joinpath(*series_dirs)
        series, series_year = split_year(series_dirs[-1])
    else:
        series, series_year = split_year(made_up or "") if made_up else ("", None)
        series = series or (clean(dirs[0]) if dirs else "") or "Unknown series"
        # An episode in the library root: the series is named by the file; its folder is made up.
        series_path = base / series
    if season_path is None and season is not None:
        season_path = series_path / f"Season {season}"
    return _Show(series or series_path.name, series_year, str(series_path), season,
                 str(season_path) if season_path is not None else None)  # fmt: skip


def _episode(file: PurePath, base: PurePath, dirs: tuple[str, ...], kind: str) -> Guess | None:
    season_at = _season_folder(dirs, kind)
    numbers = kind == "shows" or season_at is not None
    folder_season = season_at[1].number if season_at else None
    stem, part = split_part(file.stem)
    match = parse_episode(stem, numbers=numbers, folder_season=folder_season)
    if match is None and part is not None:
        stem, part = file.stem, None  # "Part 2" was the whole name
        match = parse_episode(stem, numbers=numbers, folder_season=folder_season)
    if match is None and season_at is None and kind != "shows":
        return None
    show = _show(base, dirs, kind, match)
    assert show is not None  # there is a match, a season folder or a shows library
    name = match.title if match else clean(stem) or None
    air_date = match.air_date.isoformat() if match and match.air_date else None
    return Guess(
        "episode", name, None, show.series, show.series_year, show.series_path, show.season, show.season_path,
        match.episode if match else None, match.episode_end if match else None, air_date, part=part,
    )  # fmt: skip


def guess_root(path: str | PurePath) -> PurePath:
    """The library folder a path most likely lies in, when nobody said: the folder holding the film's
    or series' folder (season, extras and disc folders are looked through)."""
    file = PurePath(path)
    folders = list(file.parents)
    i = 0
    while i < len(folders) - 1:
        name = folders[i].name
        if extras.kind_of_folder(name) or is_disc_folder(name) or parse_season_folder(name) is not None:
            i += 1
            continue
        break
    return folders[min(i + 1, len(folders) - 1)]


def air_date(guess: Guess) -> dt.date | None:
    """The guess's air date as a date."""
    return dt.date.fromisoformat(guess.air_date) if guess.air_date else None
