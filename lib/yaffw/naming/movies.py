"""Film names and years from a file name and the folder it lies in.

``Title (Year)/Title (Year).mkv``, a loose ``Title (Year).mp4``, scene names
(``The.Matrix.1999.1080p.BluRay.x264``), tags that are not title (``UltraHD``, ``Multi``,
``[tmdbid=603]``, ``{imdb-tt0133093}``), a date that is not a year (``Concert 2013.12.09``). When the
file and its folder both give a year the file's wins (a folder may hold an older cut, or be wrong);
a file whose name says nothing (``movie.mkv``, ``VTS_01_1.VOB``) takes its folder's.
"""

from __future__ import annotations

import re

from yaffw.naming.text import split_year

# DVD and Blu-ray folder structures: the film is named by the folder that holds them.
DISC_FOLDERS = frozenset({"video_ts", "bdmv", "stream", "playlist", "clipinf", "backup", "audio_ts"})
_GENERIC = re.compile(r"^(?:movie|film|video|feature|main|title|vts[ _]\d+[ _]\d+|video[ _]ts|\d{5}|index)?$", re.I)


def is_disc_folder(name: str) -> bool:
    """``VIDEO_TS``, ``BDMV`` and the folders inside a Blu-ray structure."""
    return name.lower() in DISC_FOLDERS


def movie_name(stem: str, folder: str | None) -> tuple[str, int | None]:
    """``(name, year)`` of the film in file ``stem`` (no extension, no part or version suffix) that lies
    in ``folder`` (its folder's name; None for a file in the library root)."""
    title, year = split_year(stem)
    if folder is None:
        return title or stem, year
    folder_title, folder_year = split_year(folder)
    if year is not None:
        return title, year  # the file's year wins over the folder's
    if folder_year is not None or _GENERIC.match(title or ""):
        return folder_title or title or stem, folder_year
    return title or stem, None
