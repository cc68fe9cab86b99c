"""Which files beside a media file (or in a series/season folder) describe it: nfo, images, subtitles.

Works on the folder listings the walk made, so nothing is opened here. ``signature`` fingerprints the
matched sidecars (names, sizes, mtimes, and the folder), so a rescan notices an edited nfo or a new
poster without reading the video again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from yaffw_scan.walk import Entry

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".tbn")
SUBTITLE_EXTENSIONS = (".srt", ".vtt", ".ass", ".ssa", ".sub", ".idx", ".sup")
# Folder-level image names, in order of preference, per kind.
_FOLDER_IMAGES = {
    "primary": ("poster", "folder", "cover", "default", "movie"),
    "backdrop": ("fanart", "backdrop", "background", "art"),
    "thumb": ("thumb", "landscape"),
}


@dataclass(frozen=True)
class Sidecars:
    """Sidecar files (absolute paths) for one media item or folder, and their fingerprint."""

    signature: str
    nfo: str | None = None
    images: dict[str, str] = field(default_factory=dict)  # kind → path
    subtitles: tuple[str, ...] = ()


def _signature(folder: str, entries: Iterable[Entry]) -> str:
    digest = hashlib.sha1(folder.encode("utf-8", "replace"))
    for e in entries:
        digest.update(f"\0{e.name}\0{e.size}\0{e.mtime}".encode("utf-8", "replace"))
    return digest.hexdigest()


def _by_stem(entries: Iterable[Entry]) -> dict[str, Entry]:
    """Lower-cased ``stem.ext`` → entry (first wins: entries are sorted by name)."""
    out: dict[str, Entry] = {}
    for e in entries:
        out.setdefault(e.name.lower(), e)
    return out


def _find_image(names: dict[str, Entry], stems: Iterable[str]) -> Entry | None:
    for stem in stems:
        for ext in IMAGE_EXTENSIONS:
            hit = names.get(stem.lower() + ext)
            if hit is not None:
                return hit
    return None


def _folder_level(name: str) -> bool:
    base, ext = os.path.splitext(name.lower())
    return name.lower() == "movie.nfo" or (
        ext in IMAGE_EXTENSIONS and any(base in stems for stems in _FOLDER_IMAGES.values())
    )


def signature_for_media(path: str, entries: tuple[Entry, ...], *, own_folder: bool) -> str:
    """The fingerprint of every sidecar that could belong to ``path``: files named after it
    (``<stem>.nfo``, ``<stem>-poster.jpg``, ``<stem>.en.srt``) and, in a folder of its own, the
    folder-level names. It does not depend on what the file is (film or episode), so a rescan can
    compare it without identifying the file first."""
    folder, name = os.path.split(path)
    stem = os.path.splitext(name)[0].lower()
    matched = []
    for e in entries:
        lower = e.name.lower()
        if lower.startswith((stem + ".", stem + "-")) or (own_folder and _folder_level(e.name)):
            matched.append(e)
    return _signature(folder, matched)


def for_media(path: str, entries: tuple[Entry, ...], *, own_folder: bool, episode: bool) -> Sidecars:
    """Sidecars of the media file ``path`` given its folder's sidecar ``entries`` (sorted by name).

    ``own_folder``: the file is the only media file in a folder of its own (``Title (Year)/``),
    so folder-level names (``poster.jpg``, ``movie.nfo``) belong to it too — to a film, not to an
    episode.
    """
    folder, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    names = _by_stem(entries)
    nfo = names.get(stem.lower() + ".nfo") or (names.get("movie.nfo") if own_folder and not episode else None)
    images: dict[str, str] = {}
    own = {
        # An episode's "-thumb" is its picture; a film's "-thumb" is a landscape still.
        "primary": [f"{stem}-poster", f"{stem}-thumb", stem] if episode else [f"{stem}-poster", stem],
        "backdrop": [f"{stem}-fanart", f"{stem}-backdrop"],
        "thumb": [f"{stem}-thumb", f"{stem}-landscape"],
    }
    for kind, stems in own.items():
        if own_folder and not episode:
            stems = stems + list(_FOLDER_IMAGES[kind])
        hit = _find_image(names, stems)
        if hit is not None:
            images[kind] = os.path.join(folder, hit.name)
    prefix = stem.lower() + "."
    subtitles = tuple(
        os.path.join(folder, e.name)
        for e in entries
        if e.name.lower().startswith(prefix) and os.path.splitext(e.name.lower())[1] in SUBTITLE_EXTENSIONS
    )
    signature = signature_for_media(path, entries, own_folder=own_folder)
    return Sidecars(signature, nfo and os.path.join(folder, nfo.name), images, subtitles)


def for_series(folder: str, entries: tuple[Entry, ...]) -> Sidecars:
    """Sidecars of a series folder: ``tvshow.nfo``, ``poster``/``folder``, ``fanart``, ``thumb``."""
    return _for_folder(folder, entries, "tvshow.nfo", {k: list(v) for k, v in _FOLDER_IMAGES.items()})


def for_season(
    folder: str, entries: tuple[Entry, ...], series_folder: str, series_entries: tuple[Entry, ...], number: int | None
) -> Sidecars:
    """Sidecars of a season: its own folder's ``season.nfo``/``poster``, else the series folder's
    ``season01-poster.jpg`` (``season-specials-poster.jpg`` for season 0)."""
    own = _for_folder(folder, entries, "season.nfo", {"primary": ["poster", "folder"], "backdrop": ["fanart"]})
    if number is None:
        return own
    tag = "season-specials" if number == 0 else f"season{number:02d}"
    names = _by_stem(series_entries)
    images = dict(own.images)
    matched = []
    for kind, suffix in (("primary", "poster"), ("backdrop", "fanart"), ("thumb", "landscape")):
        hit = _find_image(names, [f"{tag}-{suffix}"])
        if hit is not None:
            matched.append(hit)
            images.setdefault(kind, os.path.join(series_folder, hit.name))
    signature = _signature(own.signature + series_folder, matched)
    return Sidecars(signature, own.nfo, images, ())


def _for_folder(folder: str, entries: tuple[Entry, ...], nfo_name: str, kinds: dict[str, list[str]]) -> Sidecars:
    names = _by_stem(entries)
    matched: list[Entry] = []
    nfo = names.get(nfo_name)
    if nfo:
        matched.append(nfo)
    images: dict[str, str] = {}
    for kind, stems in kinds.items():
        hit = _find_image(names, stems)
        if hit is not None:
            images[kind] = os.path.join(folder, hit.name)
            matched.append(hit)
    return Sidecars(_signature(folder, matched), nfo and os.path.join(folder, nfo.name), images, ())
