"""DVD (``VIDEO_TS``) and Blu-ray (``BDMV``) folders: one film each, represented by one file.

A disc folder holds menus and many pieces (``VTS_01_1.VOB``, ``VTS_01_2.VOB``..., ``00000.m2ts``...).
The walk lists only the main title's first file: the first VOB of the largest title set, or the
largest stream of a Blu-ray. The film is named after the folder holding the disc structure
(:mod:`yaffw.naming.identify`); playing the whole disc is not done yet.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict

DISC_FOLDERS = frozenset({"video_ts", "bdmv"})
_VOB = re.compile(r"^vts_(\d\d)_([1-9])\.vob$", re.I)  # title set NN, piece 1-9 (piece 0 is its menu)


def _sizes(folder: str) -> dict[str, int]:
    out = {}
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if entry.is_file():
                    out[entry.name] = entry.stat().st_size
    except OSError:
        return {}
    return out


def main_file(folder: str) -> str | None:
    """The file standing for the disc in ``folder`` (a ``VIDEO_TS`` or ``BDMV`` folder), or None."""
    name = os.path.basename(os.path.normpath(folder)).lower()
    if name == "video_ts":
        sets: defaultdict[str, int] = defaultdict(int)
        first: dict[str, str] = {}
        for file, size in _sizes(folder).items():
            match = _VOB.match(file)
            if match:
                sets[match.group(1)] += size
                if match.group(2) == "1":
                    first[match.group(1)] = file
        candidates = [s for s in sets if s in first]
        if not candidates:
            return None
        best = max(candidates, key=lambda s: (sets[s], -int(s)))
        return os.path.join(folder, first[best])
    if name == "bdmv":
        streams = {f: s for f, s in _sizes(os.path.join(folder, "STREAM")).items() if f.lower().endswith(".m2ts")}
        if not streams:
            return None
        return os.path.join(folder, "STREAM", max(streams, key=lambda f: (streams[f], f)))
    return None
