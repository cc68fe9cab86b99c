"""Read one media file: header hash, container and streams (PyAV), its nfo, images and subtitles.

All of it blocks, so it runs in a thread pool of ``YAFFW_SCAN_CONCURRENCY`` threads: that is the bound
on how many files are open at once. PyAV releases the GIL while FFmpeg demuxes and decodes, so the
threads do use several cores. ``opened`` counts every time a media file is opened (header hash;
probe, with the still taken in the same open), which is how the tests prove that a rescan of an
unchanged library opens none.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from yaffw.errors import YaffwError
from yaffw.media import safe_path
from yaffw.media.fingerprint import header_hash
from yaffw.media.probe import MediaInfo, StreamInfo, probe

from yaffw_scan import images, nfo, sidecars, subtitles
from yaffw_scan.images import Picture
from yaffw_scan.walk import MediaFile

log = logging.getLogger(__name__)


@dataclass
class Facts:
    """Everything read from disk for one media file."""

    header_hash: str
    media: MediaInfo
    nfo: nfo.Nfo | None
    pictures: list[Picture]
    subtitles: list[StreamInfo]


class Prober:
    """Bounded, counted file reading for the scanner."""

    def __init__(self, concurrency: int, roots: list[str] | None = None):
        # With the library's roots, every file is checked again just before it is opened (it may have
        # become a link out of the library or a FIFO since the walk): yaffw.media.safe_path.
        self.roots = roots
        self.executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="scan-probe")
        self._lock = threading.Lock()
        self.opened = 0
        self.probed = 0

    def _count(self, *, probed: bool = False) -> None:
        with self._lock:
            self.opened += 1
            self.probed += int(probed)

    async def header_hash(self, file: MediaFile) -> str:
        """The file's header hash (reads its first 64 KiB). :raises OSError: if unreadable."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._hash, file)

    async def read(self, file: MediaFile, cars: sidecars.Sidecars, known_hash: str | None) -> Facts:
        """Probe ``file`` and read its sidecars.

        :raises MediaError: empty, truncated, corrupt or not media.
        :raises OSError: unreadable.
        """
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._read, file, cars, known_hash)

    def _hash(self, file: MediaFile) -> str:
        self._check(file)
        self._count()
        return header_hash(file.path, file.size)

    def _check(self, file: MediaFile) -> None:
        """:raises OSError: refused by :func:`yaffw.media.safe_path.check_media` (recorded as a failure)."""
        if self.roots is None:
            return
        try:
            safe_path.check_media(file.path, self.roots)
        except YaffwError as exc:
            raise OSError(exc.message) from exc

    def _read(self, file: MediaFile, cars: sidecars.Sidecars, known_hash: str | None) -> Facts:
        digest = known_hash or self._hash(file)
        pictures = [p for kind, path in cars.images.items() if (p := images.load_sidecar(kind, path))]
        # Without a sidecar poster, take a still at 10% while the file is open for the probe anyway.
        want_still = not any(p.kind == "primary" for p in pictures)
        self._check(file)
        self._count(probed=True)
        media = probe(file.path, still_at=0.1 if want_still else None)
        info = nfo.read(cars.nfo) if cars.nfo else None
        if media.still is not None:
            pictures.append(images.from_still(media.still))
        first_free = max((s.index for s in media.streams), default=-1) + 1
        subs = subtitles.streams(file.path, cars.subtitles, first_free, self.roots)
        return Facts(digest, media, info, pictures, subs)

    def run(self, func, *args):  # type: ignore[no-untyped-def]
        """Run other blocking work (folder sidecars, uploads) on the same bounded pool."""
        return asyncio.get_running_loop().run_in_executor(self.executor, func, *args)

    def close(self) -> None:
        """Stop the threads (waits for running work)."""
        self.executor.shutdown(wait=True)
