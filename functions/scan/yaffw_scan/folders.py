"""Series and season rows: created when the first episode needs them, refreshed when their
sidecars (``tvshow.nfo``, ``poster.jpg``, ``season01-poster.jpg``...) change, one row per folder."""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from collections.abc import Callable

import asyncpg
from yaffw import events
from yaffw.storage import ObjectStore

from yaffw_scan import images, nfo, register, sidecars
from yaffw_scan.identify import Guess
from yaffw_scan.metadata import describe_season, describe_series
from yaffw_scan.probe import Prober
from yaffw_scan.register import FolderRow, Library, State
from yaffw_scan.walk import Listing

log = logging.getLogger(__name__)


def _read(cars: sidecars.Sidecars) -> tuple[nfo.Nfo | None, list[images.Picture]]:
    info = nfo.read(cars.nfo) if cars.nfo else None
    pictures = [p for kind, path in cars.images.items() if (p := images.load_sidecar(kind, path))]
    return info, pictures


class Folders:
    """The folder rows of one scan pass."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: ObjectStore,
        prober: Prober,
        library: Library,
        state: State,
        listing: Listing,
        on_item: Callable[[str, str], None],
    ):
        self.pool = pool
        self.store = store
        self.prober = prober
        self.library = library
        self.state = state
        self.listing = listing
        self.on_item = on_item
        self._ids = {key: row.id for key, row in state.folders.items()}
        self._paths = {row.id: row.path for row in state.folders.values()}  # id → folder path
        self._locks: defaultdict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)
        self.added = 0
        self.updated = 0

    async def parent_of(self, guess: Guess) -> str | None:
        """The row an item hangs under: its season (or series), created if needed; None for films."""
        if guess.type != "episode" or guess.series_path is None:
            return None
        series_id = await self._ensure("series", guess.series_path, None, None)
        if guess.season_path is None:
            return series_id
        return await self._ensure("season", guess.season_path, series_id, guess.season)

    async def refresh_changed(self) -> None:
        """Rewrite folders whose sidecars changed since they were read (only folders this walk saw)."""
        for (type_, path), row in list(self.state.folders.items()):
            seen = self.listing.sidecars
            if path not in seen and os.path.dirname(path) not in seen:  # outside this walk (subtree scan)
                continue
            if self._sidecars(row.type, path, row.parent_id, row.index_number).signature != row.sidecar_hash:
                async with self._locks[(type_, path)]:
                    await self._write(type_, path, row.parent_id, row.index_number)
                self.updated += 1
                self.on_item(events.ITEM_UPDATED, row.id)

    async def _ensure(self, type_: str, path: str, parent_id: str | None, number: int | None) -> str:
        key = (type_, path)
        if key in self._ids:
            return self._ids[key]
        async with self._locks[key]:
            if key not in self._ids:
                folder_id, inserted = await self._write(type_, path, parent_id, number)
                self._ids[key] = folder_id
                if inserted:
                    self.added += 1
                    self.on_item(events.ITEM_ADDED, folder_id)
        return self._ids[key]

    def _sidecars(self, type_: str, path: str, parent_id: str | None, number: int | None) -> sidecars.Sidecars:
        if type_ == "series":
            return sidecars.for_series(path, self.listing.sidecars_in(path))
        series_path = self._paths.get(parent_id or "") or os.path.dirname(path)
        return sidecars.for_season(
            path, self.listing.sidecars_in(path), series_path, self.listing.sidecars_in(series_path), number
        )

    async def _write(self, type_: str, path: str, parent_id: str | None, number: int | None) -> tuple[str, bool]:
        cars = self._sidecars(type_, path, parent_id, number)
        info, pictures = await self.prober.run(_read, cars)
        fields = describe_series(path, info) if type_ == "series" else describe_season(path, number, info)
        fields.update(parent_id=parent_id, sidecar_hash=cars.signature)
        async with self.pool.acquire() as conn, conn.transaction():
            await register.relax_commit(conn)
            folder_id, inserted = await register.upsert_folder(conn, self.library.id, fields)
            rows = await asyncio.to_thread(images.save, self.store, folder_id, pictures)
            stale = await register.replace_images(conn, folder_id, rows)
        if stale:
            await asyncio.to_thread(images.delete, self.store, stale)
        self.state.folders[(type_, path)] = FolderRow(folder_id, type_, path, cars.signature, parent_id, number)
        self._paths[folder_id] = path
        log.info("%s %s %s (%s)", "added" if inserted else "updated", type_, folder_id, path)
        return folder_id, inserted
