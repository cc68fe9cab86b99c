"""Parts of one film split over several files: ``Film-cd1``, ``Film part2``, ``Film (2000) - disc 3``,
``Film.pt1``, ``Film [dvd2]``, ``Film-cdA``.

Jellyfin's stacking rules (``VideoFileStackingRules``): a separator (or a closing bracket), the part
word ``cd``, ``dvd``, ``part``, ``pt``, ``disc`` or ``disk``, then a number (or a letter a–d), at the
end of the name.
"""

from __future__ import annotations

import re

_PART = re.compile(
    r"^(?P<name>.*?)(?:(?<=[\]\)\}])|[ _.-]+)[(\[]?(?:cd|dvd|part|pt|dis[ck])[ _.-]*(?P<n>[0-9]{1,2}|[a-d])[)\]]?$",
    re.I,
)


def split_part(stem: str) -> tuple[str, int | None]:
    """``("Film (2000)", 2)`` for ``Film (2000) - cd2``; ``(stem, None)`` when it is not a part."""
    match = _PART.match(stem)
    if match is None or not match.group("name").strip(" -._"):
        return stem, None
    n = match.group("n")
    number = int(n) if n.isdigit() else "abcd".index(n.lower()) + 1
    return match.group("name").rstrip(" -._"), number
