"""Versions of one film: ``Film (2010) - 1080p``, ``Film (2010) - Director's Cut``, ``Film (2010) [4K]``,
``Film {edition-Extended}``.

Jellyfin's rule: in the film's own folder, a file named like the folder and then `` - label`` (or
`` [label]``) is a version of that film, labelled ``label``. Outside a film folder the label must look
like one (a resolution, an edition) or come as Plex's ``{edition-…}``, so ``Mission - Impossible``
stays a title (and a loose ``Film [1080p]`` carries a release tag, not a version).
"""

from __future__ import annotations

import re

from yaffw.naming.text import edition, same_title, split_year, strip_ids

_LABEL_WORDS = re.compile(
    r"^(?:\d{3,4}[pi]|4k|8k|uhd|hd|sd|hdr10?\+?|hdr|sdr|dolby vision|dv|3d|imax|remux|"
    r"(?:director'?s|final|theatrical|extended|ultimate|special|collector'?s|anniversary|unrated|uncut|"
    r"original|producer'?s|rogue|black and white|open matte)(?: (?:cut|edition|version))?|"
    r"(?:extended|special|ultimate|collector'?s|anniversary|criterion|remastered)(?: edition)?|remastered|"
    r"uncut|unrated|redux|workprint)$",
    re.I,
)
_DASH_LABEL = re.compile(r"^(?P<name>.+?)\s+-\s+(?P<label>[^-]+?)\s*$")
_BRACKET_LABEL = re.compile(r"^(?P<name>.+?)\s*\[(?P<label>[^\]]+)\]\s*$")


def split_version(stem: str, folder: str | None) -> tuple[str, str | None]:
    """``(name, label)``: the film's name without the version label, and the label (None if none).

    ``folder`` is the film's own folder name, when the file lies in one.
    """
    tagged = edition(stem)
    if tagged:
        return strip_ids(stem).strip(), tagged
    for pattern in (_DASH_LABEL, _BRACKET_LABEL):
        match = pattern.match(strip_ids(stem).strip())
        if match is None:
            continue
        name, label = match.group("name"), match.group("label").strip()
        if folder is not None and _names_folder(name, folder):
            return name, label
        if pattern is _DASH_LABEL and _LABEL_WORDS.match(label):
            return name, label  # a loose "Film [1080p]" is a release tag, not a version
    return stem, None


def _names_folder(name: str, folder: str) -> bool:
    """The file's name is the folder's film (same title, and same year where both have one)."""
    title, year = split_year(name)
    folder_title, folder_year = split_year(folder)
    return same_title(title, folder_title) and (year is None or folder_year is None or year == folder_year)
