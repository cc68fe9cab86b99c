"""Extras: trailers, featurettes, behind the scenes, deleted scenes, interviews, scenes, shorts, clips.

Jellyfin's rules (``ExtraRules`` in ``Emby.Naming/Common/NamingOptions.cs``, and its user docs): a
file in a folder named for a kind (``trailers/``, ``featurettes/``, ``behind the scenes/``...) is an
extra of what that folder lies in (a film's folder, a series, a season); a file whose name ends in
a kind's suffix (``300 (2006)-trailer.mkv``, ``Film-featurette.mkv``) is an extra of the film it
is named after, beside it.
"""

from __future__ import annotations

import re

# Folder name (lower case) → kind.
FOLDERS = {
    "trailers": "trailer",
    "featurettes": "featurette",
    "behind the scenes": "behind_the_scenes",
    "deleted scenes": "deleted_scene",
    "interviews": "interview",
    "scenes": "scene",
    "shorts": "short",
    "clips": "clip",
    "extras": "extra",
    "extra": "extra",
    "other": "extra",
    "backdrops": "theme_video",
}
KINDS = ("trailer", "featurette", "behind_the_scenes", "deleted_scene", "interview", "scene", "short", "clip",
         "extra", "theme_video")  # fmt: skip
_SUFFIX_KIND = {
    "trailer": "trailer",
    "featurette": "featurette",
    "behindthescenes": "behind_the_scenes",
    "deleted": "deleted_scene",
    "deletedscene": "deleted_scene",
    "interview": "interview",
    "scene": "scene",
    "short": "short",
    "clip": "clip",
    "extra": "extra",
    "other": "extra",
}
# "-trailer", ".trailer", "_trailer", " - trailer" for trailers; only "-featurette" and so on for the rest
# (a film may well end in " Short" or " Other").
_SUFFIX = re.compile(
    r"^(?P<owner>.+?)(?:(?:[._]|\s?-\s?)(?P<trailer>trailer)\d*|-(?P<kind>featurette|behindthescenes|deletedscene|"
    r"deleted|interview|scene|short|clip|extra|other)\d*)$",
    re.I,
)


LABELS = {
    "trailer": "Trailer", "featurette": "Featurette", "behind_the_scenes": "Behind the scenes",
    "deleted_scene": "Deleted scene", "interview": "Interview", "scene": "Scene", "short": "Short", "clip": "Clip",
    "extra": "Extra", "theme_video": "Theme video",
}  # fmt: skip


def kind_of_folder(name: str) -> str | None:
    """The extra kind of a folder called ``name`` (``Behind The Scenes`` → ``behind_the_scenes``), or None."""
    return FOLDERS.get(" ".join(name.lower().replace("_", " ").split()))


def kind_of_suffix(stem: str) -> tuple[str, str] | None:
    """``(kind, owner)`` for a file name (no extension) with an extra's suffix, or None.
    ``owner`` is the name before the suffix: the film the extra belongs to."""
    match = _SUFFIX.match(stem)
    if match is None or not match.group("owner").strip(" -._"):
        return None
    word = (match.group("trailer") or match.group("kind")).lower()
    return _SUFFIX_KIND[word], match.group("owner").rstrip(" -._")
