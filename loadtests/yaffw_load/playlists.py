"""Just enough M3U8 reading for a player: variants of a master playlist, segments of a media one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

_ATTR = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


@dataclass(frozen=True)
class Variant:
    """An ``EXT-X-STREAM-INF`` entry."""

    uri: str
    bandwidth: int
    resolution: str


@dataclass(frozen=True)
class Segment:
    """A media segment: absolute URL, start and length in media seconds."""

    uri: str
    start: float
    seconds: float


def _lines(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not an M3U8 playlist (no #EXTM3U)")
    return lines


def variants(text: str, base: str) -> list[Variant]:
    """The master playlist's variants, URIs resolved against ``base``, highest bandwidth first.

    :raises ValueError: not a playlist, or no variants.
    """
    out, pending = [], None
    for line in _lines(text):
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = dict((k, v.strip('"')) for k, v in _ATTR.findall(line.split(":", 1)[1]))
        elif not line.startswith("#") and pending is not None:
            out.append(Variant(urljoin(base, line), int(pending.get("BANDWIDTH", 0)), pending.get("RESOLUTION", "")))
            pending = None
    if not out:
        raise ValueError("master playlist has no variants")
    return sorted(out, key=lambda v: -v.bandwidth)


def segments(text: str, base: str) -> list[Segment]:
    """The media playlist's segments with their start times. :raises ValueError: no segments, or
    not a complete VOD playlist (the api promises the whole timeline at once: DESIGN §5.3)."""
    lines = _lines(text)
    if "#EXT-X-ENDLIST" not in lines:
        raise ValueError("media playlist is not complete (no #EXT-X-ENDLIST)")
    out, length, start = [], None, 0.0
    for line in lines:
        if line.startswith("#EXTINF:"):
            length = float(line.split(":", 1)[1].split(",", 1)[0])
        elif not line.startswith("#") and length is not None:
            out.append(Segment(urljoin(base, line), start, length))
            start += length
            length = None
    if not out:
        raise ValueError("media playlist has no segments")
    return out
