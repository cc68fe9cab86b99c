"""Compare what the walk found with what the database holds: the work a scan has to do.

Pure bookkeeping on ``stat`` results: a file whose size, mtime and sidecars match its row is
unchanged and is never opened; a file that failed before and has not changed since is skipped too.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from yaffw.naming.extras import kind_of_suffix
from yaffw.naming.parts import split_part
from yaffw.naming.versions import split_version

from yaffw_scan import sidecars
from yaffw_scan.identify import NAMING_VERSION, Guess, identify
from yaffw_scan.register import FileRow, State
from yaffw_scan.walk import Listing, MediaFile, is_within


@dataclass(slots=True)
class Work:
    """One file to read. ``item`` is the row it updates (changed, sidecars, moved), None if new."""

    file: MediaFile
    guess: Guess
    cars: sidecars.Sidecars
    item: FileRow | None
    reason: str  # new, changed, sidecars, moved, renamed (read by older naming rules)
    header_hash: str | None = None  # when already read (to match moves)


@dataclass
class Plan:
    """The scan's to-do list."""

    work: list[Work] = field(default_factory=list)
    unchanged: int = 0
    known_failures: int = 0
    missing: list[FileRow] = field(default_factory=list)
    gone_failures: list[str] = field(default_factory=list)


def _same(a: float | None, b: float) -> bool:
    # mtime went through a float8 column; compare to the microsecond.
    return a is not None and abs(a - b) < 1e-6


def _film_name(stem: str, folder: str) -> str:
    """The film a file's name is of, without its part or version label."""
    return split_version(split_part(stem)[0], folder)[0].casefold()


def make_plan(listing: Listing, state: State, kind: str, scope: str | None) -> Plan:
    """The work for a walk ``listing`` of a library of ``kind`` whose rows are ``state``.

    ``scope`` (a subtree path, or None for the whole library) limits which rows may be missing:
    a row outside the scanned subtree is not judged. Rows under a missing root or a folder that
    could not be listed are never reported missing (an unmounted disk is not a deletion).
    """
    plan = Plan()
    # A film's folder is its own when it is the only film there; its extras (``-trailer``) do not
    # count, and its parts (``cd1``, ``cd2``) and versions (``- 1080p``) are one film.
    films_in: dict[str, set[str]] = {}
    for f in listing.files:
        stem = os.path.splitext(os.path.basename(f.path))[0]
        if kind_of_suffix(stem) is None:
            folder = os.path.dirname(f.path)
            films_in.setdefault(folder, set()).add(_film_name(stem, os.path.basename(folder)))
    per_folder = Counter({folder: len(names) for folder, names in films_in.items()})
    found: set[str] = set()
    for file in listing.files:
        found.add(file.path)
        folder = os.path.dirname(file.path)
        entries = listing.sidecars_in(folder)
        own_folder = per_folder[folder] == 1 and os.path.normpath(folder) != os.path.normpath(file.root)
        row = state.files.get(file.path)
        if row is not None and row.size == file.size and _same(row.mtime, file.mtime):
            # Only the fingerprint here: identifying every unchanged file would cost more than the walk.
            if row.naming_version != NAMING_VERSION:
                reason = "renamed"  # identified by older rules: read once more, keeping the row's id
            elif row.sidecar_hash == sidecars.signature_for_media(file.path, entries, own_folder=own_folder):
                plan.unchanged += 1
                continue
            else:
                reason = "sidecars"
        else:
            failed = state.failures.get(file.path)
            if failed is not None and failed[0] == file.size and _same(failed[1], file.mtime):
                plan.known_failures += 1  # failed as it is now; its old row, if any, stays
                continue
            reason = "new" if row is None else "changed"
        guess = identify(file.path, root=file.root, kind=kind)
        cars = sidecars.for_media(file.path, entries, own_folder=own_folder, episode=guess.type == "episode")
        plan.work.append(Work(file, guess, cars, row, reason))
    protected = [*listing.missing_roots, *listing.skipped]

    def judged(path: str) -> bool:
        if scope is not None and not is_within(path, scope):
            return False
        return not any(is_within(path, p) for p in protected)

    plan.missing = [row for path, row in state.files.items() if path not in found and judged(path)]
    plan.gone_failures = [path for path in state.failures if path not in found and judged(path)]
    return plan
