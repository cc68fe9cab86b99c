"""The first segments of films started on this machine, kept for the next session (issue 13).

A new session's first frame waits for FFmpeg to start and make segment 0; a film that was started
before on this machine skips that: its first segments (the short ones of the ramp, the first ``S``
seconds, see :func:`yaffw.media.hls.ramp`) are taken from here and the encoder starts only when the
player asks for the segment after them.

- **Key**: SHA-256 of the encoder's command line for a run from segment 0 (output folder left out)
  and the source file's size and modification time. Whatever changes a segment's bytes — the file,
  variant, bitrate, audio choice, segment plan, hardware choice — changes the key, so an entry is
  always the very segments the encoder would make.
- **Entry**: a folder ``<key>/`` with ``<n>.ts`` hard links to the files a run from 0 made (scratch is
  one file system; a copy where linking fails). It is used only when every segment it should hold is
  there, so a run stopped half way leaves nothing half usable.
- **Size**: at most ``limit`` entries (``YAFFW_FIRST_SEGMENT_CACHE``, 0 turns the cache off); the least
  recently used go first. An entry is a few seconds of video (~1-3 MB).

Several workers on one machine may share the folder: links are atomic, and a lost race only means
one entry written twice or pruned early.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

log = logging.getLogger(__name__)


def run_key(argv: list[str], source: str) -> str | None:
    """What names the segments of the encoder run ``argv`` (from segment 0) on ``source``: here and in
    object storage (``openings.py``). None when the file cannot be read."""
    try:
        st = os.stat(source)
    except OSError:
        return None
    material = json.dumps([argv[:-1], st.st_size, st.st_mtime_ns])  # argv[-1]: the output folder
    return hashlib.sha256(material.encode()).hexdigest()[:32]


class FirstSegments:
    """The cache under ``root``, at most ``limit`` films."""

    def __init__(self, root: Path, limit: int) -> None:
        self.root = root
        self.limit = limit

    @property
    def enabled(self) -> bool:
        """False when ``YAFFW_FIRST_SEGMENT_CACHE`` is 0."""
        return self.limit > 0

    def key(self, argv: list[str], source: str) -> str | None:
        """The entry's name for the run ``argv`` (from segment 0) on ``source``; None when the file
        cannot be read (or the cache is off)."""
        return run_key(argv, source) if self.enabled else None

    def lookup(self, key: str, count: int) -> list[Path] | None:
        """Segments ``0 .. count-1`` of entry ``key`` when all are there (the entry is marked used)."""
        folder = self.root / key
        files = [folder / f"{n}.ts" for n in range(count)]
        if not all(f.is_file() for f in files):
            return None
        with contextlib.suppress(OSError):
            os.utime(folder)  # most recently used
        return files

    def store(self, key: str, n: int, made: Path) -> None:
        """Keep segment ``n`` (the file ``made``) in entry ``key``; prunes when the entry is new."""
        folder = self.root / key
        new = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{n}.ts"
            if target.exists():
                return
            try:
                os.link(made, target)
            except OSError:
                tmp = folder / f".{n}.{os.getpid()}.tmp"
                shutil.copyfile(made, tmp)
                tmp.replace(target)
        except OSError as exc:  # a full RAM disk must not fail the session: the cache is optional
            log.warning("first segment cache: cannot keep %s: %s", made, exc)
            return
        if new:
            self.prune()

    def prune(self) -> None:
        """Remove the least recently used entries beyond the limit."""
        try:
            entries = sorted(self.root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return
        for old in entries[self.limit :]:
            shutil.rmtree(old, ignore_errors=True)
