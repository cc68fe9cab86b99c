"""Which item an extra belongs to: the film in its owner folder (the one it is named after, when it is
named after one), else that folder's series or season row.

Extras are read after every other file of the pass, so their owners already have rows; an extra
whose owner is not there (yet, or any more) stays unlinked — never listed — and is linked by a later
pass (:func:`link_unlinked`).
"""

from __future__ import annotations

import logging
import os

import asyncpg

from yaffw_scan import register
from yaffw_scan.identify import Guess, identify
from yaffw_scan.register import Library
from yaffw_scan.walk import is_within

log = logging.getLogger(__name__)


def _stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0].lower()


def pick_owner(guess: Guess, candidates: list[asyncpg.Record], *, in_root: bool) -> str | None:
    """The owner's id among ``candidates`` (:func:`register.owner_candidates`), or None.

    A suffix extra (``Film (2000)-trailer``) goes to the film it is named after; in a film's own
    folder (not the library root, where many films lie) to the only film there if the name differs.
    A folder extra (``trailers/x.mkv``) goes to the folder's film (the first part or version), else
    to the folder's series or season.
    """
    films = [r for r in candidates if r["type"] == "movie"]
    folders = [r for r in candidates if r["type"] != "movie"]
    if guess.owner_name is not None:
        name = guess.owner_name.lower()
        named = [r for r in films if _stem(r["path"]) == name] or [
            r for r in films if _stem(r["path"]).startswith(name)
        ]
        if named:
            return str(named[0]["id"])
        if len(films) == 1 and not in_root:
            return str(films[0]["id"])
        return str(folders[0]["id"]) if folders and not films else None
    if films:
        return str(films[0]["id"])
    return str(folders[0]["id"]) if folders else None


async def owner_of(conn: register.Conn, library: Library, guess: Guess) -> str | None:
    """The id of the item the extra ``guess`` belongs to, if it has a row."""
    if guess.owner_path is None:
        return None
    candidates = await register.owner_candidates(conn, library.id, guess.owner_path)
    in_root = any(os.path.normpath(guess.owner_path) == os.path.normpath(root) for root in library.paths)
    return pick_owner(guess, candidates, in_root=in_root)


async def link_unlinked(conn: register.Conn, library: Library) -> int:
    """Link the library's extras that have no owner yet to their owner, where it now exists."""
    linked = 0
    for row in await register.unlinked_extras(conn, library.id):
        root = next((r for r in library.paths if is_within(row["path"], r)), None)
        guess = identify(row["path"], root=root, kind=library.kind)
        owner = await owner_of(conn, library, guess) if guess.type == "extra" else None
        if owner is not None:
            await register.link_extra(conn, str(row["id"]), owner)
            linked += 1
        else:
            log.info("extra %s has nothing to belong to yet", row["path"])
    return linked
