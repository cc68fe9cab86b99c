"""Guess what a media file is from its path alone (no I/O, no network).

Movies: ``Title (Year)/Title (Year).mkv`` or a loose ``Title (Year).mp4`` (scene names such as
``The.Movie.2019.1080p.BluRay.x264`` too). Episodes: ``Show/Season 01/Show S01E02 - Name.mkv``,
``Show 1x02``, ``S01E01E02`` (double episodes), and in shows libraries the absolute form
``Show - 012``. Series and season folders are found from the path; when there is no such folder
(an episode lying in the library root) a folder path is made up beside it, so series and seasons are
still one row each.

Run on one path from the command line::

    python -m yaffw_scan.identify "/media/shows/Show/Season 01/Show S01E02.mkv" --kind shows
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import PurePath

KINDS = ("movies", "shows", "mixed")

_SXXEYY = re.compile(r"(?<![a-z0-9])s(\d{1,4})[ ._-]?e(\d{1,4})(?:[ ._-]?-?[ ._-]?e(\d{1,4}))?(?![0-9])", re.I)
_NXNN = re.compile(r"(?<![a-z0-9])(\d{1,2})x(\d{2,3})(?![0-9a-z])", re.I)
# "Show - 012" / "Show - E012 - Title": absolute numbering, only trusted in shows libraries.
_ABSOLUTE = re.compile(r"^(?P<series>.+?)\s+-\s+(?:e|ep|episode\s*)?(?P<n>\d{1,3})(?:\s+-\s+(?P<title>.*))?$", re.I)
_SEASON_DIR = re.compile(r"^(?:(?:season|series|saison|staffel|temporada|stagione)[ ._-]*(\d{1,4})|s(\d{1,4}))$", re.I)
_SPECIALS_DIR = re.compile(r"^specials?$", re.I)
_YEAR_PAREN = re.compile(r"[(\[]((?:18|19|20)\d{2})[)\]]")
_YEAR_BARE = re.compile(r"(?<=[\s._-])((?:18|19|20)\d{2})(?=$|[\s._)\]-])")
# Release-name words after which nothing belongs to the title.
_JUNK = re.compile(
    r"(?<![a-z0-9])(2160p|1080[pi]|720p|576p|480p|4k|uhd|hdr|bluray|blu-ray|brrip|bdrip|web-?dl|webrip|"
    r"hdtv|dvdrip|remux|x26[45]|h\.?26[45]|hevc|avc|xvid|aac|ac3|dts|proper|repack|extended|unrated)"
    r"(?![a-z0-9])",
    re.I,
)
_ARTICLES = ("the ", "a ", "an ")


@dataclass(frozen=True)
class Guess:
    """What a path looks like. ``series_path``/``season_path`` are absolute folder paths (maybe
    made up) that identify the series and season rows; ``None`` where there is no such level."""

    type: str  # "movie" or "episode"
    name: str | None
    year: int | None = None
    series: str | None = None
    series_year: int | None = None
    series_path: str | None = None
    season: int | None = None
    season_path: str | None = None
    episode: int | None = None
    episode_end: int | None = None


def clean(text: str) -> str:
    """A display name from a file or folder name: dots/underscores as spaces, no release junk."""
    if " " not in text and ("." in text or "_" in text):
        text = text.replace(".", " ").replace("_", " ")
    junk = _JUNK.search(text)
    if junk and junk.start() > 0:
        text = text[: junk.start()]
    text = re.sub(r"\s+", " ", text)
    return text.strip(" -._[](){}")


def split_year(text: str) -> tuple[str, int | None]:
    """``"Title (2020) 1080p"`` → ``("Title", 2020)``; a year at the very start stays in the title."""
    match = _YEAR_PAREN.search(text)
    if match is None:
        bare = [m for m in _YEAR_BARE.finditer(text) if m.start() > 0]
        match = bare[-1] if bare else None
    if match is None:
        return clean(text), None
    title = clean(text[: match.start()])
    return (title, int(match.group(1))) if title else (clean(text), None)


def sort_name(name: str) -> str:
    """Sort key: lower case, accents folded, a leading article dropped, numbers zero-padded."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or name
    key = folded.lower().strip()
    for article in _ARTICLES:
        if key.startswith(article) and len(key) > len(article):
            key = key[len(article) :]
            break
    return re.sub(r"\d+", lambda m: m.group(0).zfill(6), key)


def season_number(folder: str) -> int | None:
    """The season a folder name stands for (``Season 01`` → 1, ``Specials`` → 0), else None."""
    if _SPECIALS_DIR.match(folder):
        return 0
    match = _SEASON_DIR.match(folder)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def _episode_tokens(stem: str, absolute: bool) -> tuple[int | None, int | None, int | None, str, str | None] | None:
    """(season, episode, episode_end, series part, title part) from a file name, or None."""
    for pattern in (_SXXEYY, _NXNN):
        match = pattern.search(stem)
        if match:
            end = int(match.group(3)) if pattern is _SXXEYY and match.group(3) else None
            rest = clean(stem[match.end() :]) or None
            return int(match.group(1)), int(match.group(2)), end, stem[: match.start()], rest
    if absolute:
        match = _ABSOLUTE.match(stem)
        if match:
            return None, int(match.group("n")), None, match.group("series"), clean(match.group("title") or "") or None
    return None


def identify(path: str | PurePath, *, root: str | PurePath | None = None, kind: str = "mixed") -> Guess:
    """Guess a movie or an episode from ``path`` (under library folder ``root``, in a library of
    ``kind``: movies, shows or mixed). Never raises for odd names: the worst guess is a movie named
    after the file."""
    file = PurePath(path)
    base = PurePath(root) if root is not None else file.parent
    try:
        dirs = file.parent.relative_to(base).parts
    except ValueError:
        dirs = ()
    stem = file.stem
    if kind != "movies":
        season_idx = next((i for i in range(len(dirs) - 1, -1, -1) if season_number(dirs[i]) is not None), None)
        tokens = _episode_tokens(stem, absolute=kind == "shows")
        if tokens or season_idx is not None or kind == "shows":
            return _episode(file, base, dirs, stem, tokens, season_idx, kind)
    return _movie(stem, dirs)


def _movie(stem: str, dirs: tuple[str, ...]) -> Guess:
    title, year = split_year(stem)
    if dirs:
        folder_title, folder_year = split_year(dirs[-1])
        # "Title (Year)/movie.mkv": the folder names the film better than a generic file name.
        if folder_year is not None and (year is None or folder_title.lower() == title.lower()):
            title, year = folder_title, folder_year
    return Guess("movie", title or stem, year)


def _episode(
    file: PurePath,
    base: PurePath,
    dirs: tuple[str, ...],
    stem: str,
    tokens: tuple[int | None, int | None, int | None, str, str | None] | None,
    season_idx: int | None,
    kind: str,
) -> Guess:
    season, episode, episode_end, series_part, title = tokens or (None, None, None, "", None)
    season_path: PurePath | None = None
    if season_idx is not None:
        season = season_number(dirs[season_idx])  # the folder wins over the file name
        season_path = base.joinpath(*dirs[: season_idx + 1])
        series_dirs = dirs[:season_idx]
    elif kind == "shows":
        series_dirs = dirs[:1]
    else:
        series_dirs = dirs
    if series_dirs:
        series_path = base.joinpath(*series_dirs)
        series, series_year = split_year(series_dirs[-1])
    else:
        # An episode in the library root: the series is named by the file; its folder is made up.
        series, series_year = split_year(series_part or stem)
        series_path = base / (series or stem)
    if season_path is None and season is not None:
        season_path = series_path / f"Season {season}"
    if title is None and tokens is None:
        title = clean(stem)
    return Guess(
        "episode",
        title,
        None,
        series or series_path.name,
        series_year,
        str(series_path),
        season,
        str(season_path) if season_path is not None else None,
        episode,
        episode_end,
    )


def main(argv: list[str] | None = None) -> int:
    """Print the guess for each path as JSON."""
    parser = argparse.ArgumentParser(prog="python -m yaffw_scan.identify", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--kind", choices=KINDS, default="mixed", help="library kind (default mixed)")
    parser.add_argument("--root", help="the library folder the paths lie under")
    args = parser.parse_args(argv)
    for path in args.paths:
        guess = identify(path, root=args.root, kind=args.kind)
        print(json.dumps({"path": path, **dataclasses.asdict(guess)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
