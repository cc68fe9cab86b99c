"""A tiny writer of PGS (Blu-ray ``.sup``) subtitles, because FFmpeg decodes them but cannot encode them.

A ``.sup`` file is a run of segments, each ``"PG" + PTS + DTS + type + size + payload`` (times in
90 kHz ticks). One display set shows an object: PCS (presentation composition), WDS (window), PDS
(palette, YCrCb + alpha), ODS (the run-length coded bitmap), END. A second set with an empty PCS
clears the screen. That is all FFmpeg's ``pgssub`` decoder needs to render (and ``overlay`` to burn
in) a filled rectangle between two times.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_PDS, _ODS, _PCS, _WDS, _END = 0x14, 0x15, 0x16, 0x17, 0x80


@dataclass(frozen=True)
class Rect:
    """A filled rectangle on a ``width`` x ``height`` canvas, shown from ``start`` to ``end`` seconds."""

    width: int
    height: int
    x: int
    y: int
    w: int
    h: int
    start: float
    end: float
    # Palette entry 1, in BT.709 YCrCb: white, opaque.
    colour: tuple[int, int, int, int] = (235, 128, 128, 255)


def _segment(kind: int, pts: float, payload: bytes) -> bytes:
    ticks = round(pts * 90_000)
    return b"PG" + struct.pack(">IIBH", ticks, 0, kind, len(payload)) + payload


def _rle_line(w: int, colour: int) -> bytes:
    """One line of ``w`` pixels of ``colour`` (!= 0), then the end-of-line marker."""
    out = b""
    left = w
    while left:
        n = min(left, 0x3FFF)
        if n < 3:
            out += bytes([colour]) * n
        elif n < 64:
            out += bytes([0, 0x80 | n, colour])
        else:
            out += bytes([0, 0xC0 | (n >> 8), n & 0xFF, colour])
        left -= n
    return out + b"\x00\x00"


def _pcs(r: Rect, number: int, objects: int) -> bytes:
    head = struct.pack(">HHBHBBBB", r.width, r.height, 0x10, number, 0x80 if objects else 0x00, 0, 0, objects)
    if objects:
        head += struct.pack(">HBBHH", 0, 0, 0, r.x, r.y)
    return head


def _wds(r: Rect) -> bytes:
    return struct.pack(">BBHHHH", 1, 0, r.x, r.y, r.w, r.h)


def sup_bytes(rect: Rect) -> bytes:
    """The ``.sup`` stream showing ``rect`` and clearing it at its end."""
    y, cr, cb, alpha = rect.colour
    pds = struct.pack(">BB", 0, 0) + bytes([0, 16, 128, 128, 0]) + bytes([1, y, cr, cb, alpha])
    rle = _rle_line(rect.w, 1) * rect.h
    # Object data length counts the width and height fields too.
    ods = struct.pack(">HBB", 0, 0, 0xC0) + (len(rle) + 4).to_bytes(3, "big") + struct.pack(">HH", rect.w, rect.h)
    show = (
        _segment(_PCS, rect.start, _pcs(rect, 0, 1))
        + _segment(_WDS, rect.start, _wds(rect))
        + _segment(_PDS, rect.start, pds)
        + _segment(_ODS, rect.start, ods + rle)
        + _segment(_END, rect.start, b"")
    )
    clear = (
        _segment(_PCS, rect.end, _pcs(rect, 1, 0))
        + _segment(_WDS, rect.end, _wds(rect))
        + _segment(_END, rect.end, b"")
    )
    return show + clear


def write_sup(path: Path, rect: Rect) -> Path:
    """Write ``rect`` as a ``.sup`` file at ``path``."""
    path.write_bytes(sup_bytes(rect))
    return path
