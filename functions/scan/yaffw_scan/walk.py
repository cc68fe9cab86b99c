"""Walk library folders: media files with their size and mtime, and the sidecar files beside them.

Only ``stat`` is used here — no media file is opened — so an unchanged library can be walked and
compared with the database without reading a byte of video. Hidden files, sample clips, system
folders and non-media files are left out. So are, in ``refused`` with the reason, files whose real
path leads outside the library's folders and things that are not regular files (FIFOs, devices,
sockets): :mod:`yaffw.media.safe_path`; a FIFO opened by the probe would hang the scan.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePath

from yaffw.media import safe_path

from yaffw_scan import discs

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = frozenset(
    [
        ".mp4",
        ".m4v",
        ".mkv",
        ".webm",
        ".mov",
        ".avi",
        ".wmv",
        ".asf",
        ".ts",
        ".m2ts",
        ".mts",
        ".mpg",
        ".mpeg",
        ".vob",
        ".flv",
        ".ogv",
        ".3gp",
        ".divx",
        ".iso",
    ]
)
# Files that carry metadata for a media file or folder: nfo, images, subtitles.
SIDECAR_EXTENSIONS = frozenset(
    [".nfo", ".jpg", ".jpeg", ".png", ".webp", ".tbn", ".srt", ".vtt", ".ass", ".ssa", ".sub", ".idx", ".sup"]
)
_SYSTEM_DIRS = frozenset({"@eadir", "#recycle", "$recycle.bin", "lost+found", "#snapshot", ".trash"})
_SAMPLE_DIR = re.compile(r"^samples?$", re.I)
_SAMPLE_FILE = re.compile(r"(?:^|[ ._-])sample$", re.I)


@dataclass(frozen=True, slots=True)
class Entry:
    """A sidecar file: its name in its folder, size and mtime."""

    name: str
    size: int
    mtime: float


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media file found on disk, and the library folder it lies under."""

    path: str
    size: int
    mtime: float
    root: str


@dataclass
class Listing:
    """What a walk found. ``sidecars`` maps every folder visited to its sidecar files."""

    files: list[MediaFile] = field(default_factory=list)
    sidecars: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    missing_roots: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # path → why it is not a media file we may read

    def sidecars_in(self, folder: str) -> tuple[Entry, ...]:
        """Sidecar files of ``folder``, listing it now if the walk did not visit it."""
        if folder not in self.sidecars:
            self.sidecars[folder] = _list_sidecars(folder)
        return self.sidecars[folder]


def is_ignored(name: str, *, is_dir: bool) -> bool:
    """Hidden files, system folders, samples (``sample/``, ``x-sample.mkv``)."""
    if name.startswith(".") or name.lower() in _SYSTEM_DIRS:
        return True
    if is_dir:
        return bool(_SAMPLE_DIR.match(name))
    stem, ext = os.path.splitext(name)
    return ext.lower() not in VIDEO_EXTENSIONS or bool(_SAMPLE_FILE.search(stem))


def _readable_name(path: str) -> bool:
    # Names that are not valid UTF-8 arrive with surrogate escapes; PostgreSQL cannot store them.
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _list_sidecars(folder: str) -> tuple[Entry, ...]:
    out = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if os.path.splitext(entry.name)[1].lower() in SIDECAR_EXTENSIONS and not entry.name.startswith("."):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    out.append(Entry(entry.name, st.st_size, st.st_mtime))
    except OSError:
        return ()
    return tuple(sorted(out, key=lambda e: e.name))


def walk(roots: Iterable[str], subtree: str | None = None) -> Listing:
    """Every media file under ``roots`` (or only under ``subtree``, a folder or file inside one of
    them). A root that does not exist is reported in ``missing_roots`` (an unmounted share must not
    look like an empty library)."""
    listing = Listing()
    roots = list(roots)
    real = safe_path.real_roots(roots)
    for root in roots:
        start = root
        if subtree is not None:
            if not is_within(subtree, root):
                continue
            start = subtree
        if not os.path.isdir(root):
            listing.missing_roots.append(root)
            continue
        if os.path.isdir(start):
            _walk_folder(listing, start, root, real)
        elif os.path.lexists(start):
            _add_file(listing, start, root, real)
    return listing


def _refused(listing: Listing, path: str, real_roots: list[str]) -> bool:
    """Record and return True when ``path`` may not be read (outside the roots, not a regular file)."""
    try:
        why = safe_path.refusal(path, real_roots)
    except OSError:  # vanished, or a dangling symlink
        return True
    if why:
        log.warning("skipping %s: %s", path, why)
        listing.refused[path] = why
    return why is not None


def _add_file(listing: Listing, path: str, root: str, real_roots: list[str]) -> None:
    name = os.path.basename(path)
    if is_ignored(name, is_dir=False) or not _readable_name(path) or _refused(listing, path, real_roots):
        return
    st = os.stat(path)
    listing.files.append(MediaFile(path, st.st_size, st.st_mtime, root))
    listing.sidecars_in(os.path.dirname(path))


def _add_disc(listing: Listing, folder: str, root: str, real_roots: list[str]) -> None:
    main = discs.main_file(folder)
    if main is None or not _readable_name(main) or _refused(listing, main, real_roots):
        return
    try:
        st = os.stat(main)
    except OSError:
        return
    listing.files.append(MediaFile(main, st.st_size, st.st_mtime, root))
    listing.sidecars[os.path.dirname(main)] = ()


def _walk_folder(listing: Listing, start: str, root: str, real_roots: list[str]) -> None:
    seen: set[tuple[int, int]] = set()
    stack = [start]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            if (st.st_dev, st.st_ino) in seen:  # a symlink loop
                continue
            seen.add((st.st_dev, st.st_ino))
            # Resolved once per folder: then only a file that is itself a symlink needs resolving.
            if not safe_path.is_under(os.path.realpath(folder), real_roots):
                log.warning("skipping %s: a link to a folder outside the library folders", folder)
                listing.refused[folder] = "the folder is a link to a place outside the library folders"
                continue
            entries = list(os.scandir(folder))
        except OSError as exc:
            log.warning("cannot list %s: %s", folder, exc)
            listing.skipped.append(folder)
            continue
        sidecars = []
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir():
                    if name.lower() in discs.DISC_FOLDERS:
                        _add_disc(listing, entry.path, root, real_roots)  # one file for the whole disc, not its pieces
                    elif not is_ignored(name, is_dir=True):
                        stack.append(entry.path)
                    continue
                ext = os.path.splitext(name)[1].lower()
                if ext in SIDECAR_EXTENSIONS and not name.startswith("."):
                    est = entry.stat()
                    sidecars.append(Entry(name, est.st_size, est.st_mtime))
                elif not is_ignored(name, is_dir=False):
                    if not _readable_name(entry.path):
                        log.warning("skipping %r: the name is not UTF-8", entry.path)
                        listing.skipped.append(entry.path.encode("utf-8", "replace").decode())
                        continue
                    est = entry.stat()
                    if not stat.S_ISREG(est.st_mode) or (
                        entry.is_symlink() and not safe_path.is_under(os.path.realpath(entry.path), real_roots)
                    ):
                        _refused(listing, entry.path, real_roots)
                        continue
                    listing.files.append(MediaFile(entry.path, est.st_size, est.st_mtime, root))
            except OSError as exc:  # vanished while we looked, or a dangling symlink
                log.debug("skipping %s: %s", entry.path, exc)
        listing.sidecars[folder] = tuple(sorted(sidecars, key=lambda e: e.name))


def is_within(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies under it (purely lexical; both absolute)."""
    p, f = PurePath(os.path.normpath(path)), PurePath(os.path.normpath(folder))
    return p == f or f in p.parents
