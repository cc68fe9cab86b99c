"""``--path-map OLD=NEW``: where Jellyfin's media paths are mounted for yaffw.

The longest matching prefix wins; a prefix only matches whole path components (``/media`` maps
``/media/x`` but not ``/mediax``). Paths from a Windows server (``D:\\Movies\\x.mkv``) get forward
slashes after mapping, so ``--path-map 'D:\\Movies=/srv/movies'`` works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yaffw.errors import BadInput

_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def _trim(path: str) -> str:
    return path.rstrip("/\\") or path[:1]


@dataclass(frozen=True)
class PathMap:
    """An ordered list of (old prefix, new prefix)."""

    rules: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, specs: list[str] | tuple[str, ...]) -> PathMap:
        """Rules from ``OLD=NEW`` strings. :raises BadInput: on a malformed rule."""
        rules = []
        for spec in specs:
            old, sep, new = spec.partition("=")
            if not sep or not old or not new:
                raise BadInput(f"--path-map {spec!r}: expected OLD=NEW")
            rules.append((_trim(old), _trim(new)))
        # Longest prefix first, so /media/tv beats /media.
        rules.sort(key=lambda r: len(r[0]), reverse=True)
        return cls(tuple(rules))

    def apply(self, path: str) -> str:
        """``path`` as yaffw sees it."""
        windows = bool(_WINDOWS.match(path))
        for old, new in self.rules:
            same = path.lower() if windows else path
            prefix = old.lower() if windows else old
            if same == prefix or (same.startswith(prefix) and same[len(prefix)] in "/\\"):
                rest = path[len(old) :]
                return new + (rest.replace("\\", "/") if windows else rest)
        return path.replace("\\", "/") if windows else path
