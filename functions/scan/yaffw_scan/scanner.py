"""The scan of one library (or one subtree of it): walk → plan → match moves → read → register → prune.

``Scanner(pool, redis, store, keys)`` is built by ``main.py``; :meth:`Scanner.scan` takes the
library's lock (or queues the request for the scan holding it) and runs passes until nothing is
pending.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import asyncpg
from yaffw import activity, events, opening_store
from yaffw.errors import BadInput
from yaffw.keys import Keys
from yaffw.media.probe import MediaError, StreamInfo
from yaffw.storage import ObjectStore

from yaffw_scan import extras, films, images, register
from yaffw_scan.folders import Folders
from yaffw_scan.lock import WHOLE_LIBRARY, ScanLock, merge_requests
from yaffw_scan.metadata import describe_media
from yaffw_scan.plan import Work, make_plan
from yaffw_scan.probe import Prober
from yaffw_scan.register import Library
from yaffw_scan.report import Reporter
from yaffw_scan.walk import is_within, walk

log = logging.getLogger(__name__)

# The item types that play, and so may have openings (yaffw.opening_queue).
PLAYABLE = ("movie", "episode")


@dataclass
class ScanResult:
    """What one pass did. ``added``/``updated``/``moved``/``removed``/``failed`` count media files
    (films, episodes); series and season rows are in ``folders_added``/``folders_removed``.
    ``opened`` counts media files opened (0 for an unchanged library)."""

    library_id: str
    path: str | None = None
    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    failed: int = 0
    unchanged: int = 0
    folders_added: int = 0
    folders_removed: int = 0
    opened: int = 0
    seconds: float = 0.0
    queued: bool = False
    failures: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The ``scan.completed`` event's data (besides ``library_id``)."""
        keys = ("added", "updated", "moved", "removed", "failed", "seconds", "unchanged", "path")
        return {k: v for k, v in asdict(self).items() if k in keys}


class Scanner:
    """Scans libraries into PostgreSQL, images into the object store, events into Redis."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        redis: Any,
        store: ObjectStore,
        keys: Keys,
        *,
        concurrency: int = 4,
        progress_interval: float = 0.5,
        openings: bool = True,
    ):
        self.pool = pool
        self.redis = redis
        self.store = store
        self.keys = keys
        self.concurrency = concurrency
        self.progress_interval = progress_interval
        self.openings = openings  # ask workers for the first segments of new films (YAFFW_OPENINGS)

    async def scan(self, library_id: str, path: str | None = None) -> list[ScanResult]:
        """Scan the library (or the subtree ``path``) and whatever was requested meanwhile.

        Returns one result per pass; a single ``queued`` result when another scan holds the lock
        (that scan runs this request before it finishes).
        :raises NotFound: no such library. :raises BadInput: ``path`` is outside the library.
        """
        library = await register.load_library(self.pool, library_id)
        if path is not None:
            path = os.path.normpath(path)
            if not any(is_within(path, root) for root in library.paths):
                raise BadInput(f"{path} is not inside library {library.name}", code="path_outside_library")
        lock = ScanLock(self.redis, self.keys, library.id)
        if not await lock.acquire_or_queue(path or WHOLE_LIBRARY):
            log.info("library %s is being scanned; request for %s queued", library.id, path or "everything")
            return [ScanResult(library.id, path, queued=True)]
        results = []
        try:
            todo: list[str | None] = [path]
            while todo:
                for scope in todo:
                    results.append(await self._scan_once(library, scope))
                todo = merge_requests(await lock.release_or_next())
        except BaseException:
            await lock.drop()
            raise
        return results

    async def _scan_once(self, library: Library, scope: str | None) -> ScanResult:
        started = time.monotonic()
        result = ScanResult(library.id, scope)
        reporter = Reporter(self.redis, self.keys, library.id, interval=self.progress_interval)
        where = f" ({scope})" if scope else ""
        await activity.write(self.pool, "scan", f"Scan of {library.name}{where} started",
                             data={"library_id": library.id, "path": scope})  # fmt: skip
        await reporter.progress("walk", 0, 0, force=True)
        prober = Prober(self.concurrency, roots=library.paths)
        try:
            listing = await asyncio.to_thread(walk, library.paths, scope)
            state = await register.load_state(self.pool, library.id)
            plan = await asyncio.to_thread(make_plan, listing, state, library.kind, scope)
            result.unchanged = plan.unchanged
            result.failed = plan.known_failures
            await self._match_moves(plan.work, plan.missing, state, scope, prober)
            folders = Folders(self.pool, self.store, prober, library, state, listing, reporter.item)
            await folders.refresh_changed()
            # Extras last: the films, series and seasons they belong to have rows by then.
            main = [w for w in plan.work if w.guess.type != "extra"]
            extras_work = [w for w in plan.work if w.guess.type == "extra"]
            cleared = await self._read_all(main, library, state, folders, prober, reporter, result)
            # Parts and versions of one film become one item before extras look for their film.
            touched = {os.path.dirname(w.file.path) for w in main}
            touched |= {os.path.dirname(w.item.path) for w in main if w.item is not None}
            touched |= {os.path.dirname(row.path) for row in plan.missing}
            await films.regroup(self.pool, library, touched, {row.id for row in plan.missing})
            cleared += await self._read_all(extras_work, library, state, folders, prober, reporter, result,
                                            offset=len(main), total=len(plan.work))  # fmt: skip
            await reporter.progress("cleanup", len(plan.work), len(plan.work))
            await self._remove(plan.missing, reporter, result)
            await register.clear_failures(self.pool, library.id, cleared + plan.gone_failures)
            for path, why in listing.refused.items():  # links out of the library, FIFOs, devices
                result.failed += 1
                result.failures[path] = why
                await register.record_failure(self.pool, library.id, path, why, None, None)
            await self._prune_folders(library, reporter, result)
            await extras.link_unlinked(self.pool, library)  # owners that came (back) in this pass
            await register.finish(self.pool, library.id)
            result.folders_added = folders.added
        finally:
            prober.close()
        result.opened = prober.opened
        result.seconds = round(time.monotonic() - started, 3)
        await reporter.progress("done", len(plan.work), len(plan.work), force=True)
        await reporter.completed(result.summary())
        counts = {k: v for k, v in result.summary().items() if k != "path"}
        await activity.write(
            self.pool, "scan",
            f"Scan of {library.name}{where} finished: {result.added} added, {result.updated} updated, "
            f"{result.moved} moved, {result.removed} removed, {result.failed} failed in {result.seconds:.1f} s",
            severity="warning" if result.failed else "info", data={"library_id": library.id, **counts},
        )  # fmt: skip
        log.info("scan of library %s%s: %s (opened %d files)", library.id, where, counts, result.opened)
        return result

    async def _match_moves(self, work: list[Work], missing: list[register.FileRow], state: register.State,
                           scope: str | None, prober: Prober) -> None:  # fmt: skip
        """A new path whose header hash is a missing row's is that row, moved: it keeps its id.

        In a subtree scan a file may have come from outside the subtree: a row outside it whose file
        no longer exists counts as missing too.
        """
        new = [w for w in work if w.item is None]
        if not new:
            return
        candidates = list(missing)
        if scope is not None:
            candidates += [r for r in state.files.values() if not is_within(r.path, scope)]
        if not candidates:
            return
        by_hash: dict[str, list[register.FileRow]] = {}
        for row in candidates:
            by_hash.setdefault(row.header_hash, []).append(row)
        hashes = await asyncio.gather(*(prober.header_hash(w.file) for w in new), return_exceptions=True)
        claimed: set[str] = set()
        for w, digest in zip(new, hashes, strict=True):
            if isinstance(digest, BaseException):
                continue  # reading it again will fail and record why
            w.header_hash = digest
            # Same name in another folder first, then any; outside rows only if their file is gone.
            rows = sorted(
                by_hash.get(digest, ()), key=lambda r: os.path.basename(r.path) != os.path.basename(w.file.path)
            )
            for row in rows:
                if row.id in claimed or (row not in missing and os.path.exists(row.path)):
                    continue
                claimed.add(row.id)
                w.item, w.reason = row, "moved"
                if row in missing:
                    missing.remove(row)
                break

    async def _read_all(self, work: list[Work], library: Library, state: register.State, folders: Folders,
                        prober: Prober, reporter: Reporter, result: ScanResult, *, offset: int = 0,
                        total: int | None = None) -> list[str]:  # fmt: skip
        """Read and register every file of ``work`` (bounded by the prober's threads). Returns the
        paths whose earlier failure is now cleared. ``offset``/``total`` place this batch in the
        pass's progress."""
        cleared: list[str] = []
        queue = iter(work)
        done = offset
        total = len(work) if total is None else total

        async def worker() -> None:
            nonlocal done
            for w in queue:
                try:
                    if (
                        await self._read_one(w, library, folders, prober, reporter, result)
                        and w.file.path in state.failures
                    ):
                        cleared.append(w.file.path)
                except Exception as exc:  # one bad file must not end the scan; it is recorded instead
                    log.exception("scan of %s failed", w.file.path)
                    await self._failed(library, w, f"{type(exc).__name__}: {exc}", result, retry=True)
                done += 1
                await reporter.progress("probe", done, total)

        # More workers than threads, so database writes overlap with reading the next file.
        await asyncio.gather(*(worker() for _ in range(self.concurrency * 2)))
        return cleared

    async def _read_one(self, w: Work, library: Library, folders: Folders, prober: Prober,
                        reporter: Reporter, result: ScanResult) -> bool:  # fmt: skip
        try:
            facts = await prober.read(w.file, w.cars, w.header_hash)
        except (MediaError, OSError) as exc:
            await self._failed(library, w, str(exc), result)
            return False
        fields = describe_media(w.file.path, w.guess, facts.nfo, facts.media)
        fields.update(
            parent_id=await folders.parent_of(w.guess), path=w.file.path, header_hash=facts.header_hash,
            size=w.file.size, mtime=w.file.mtime, sidecar_hash=w.cars.signature,
        )  # fmt: skip
        if w.guess.type == "extra":
            fields["owner_id"] = await extras.owner_of(self.pool, library, w.guess)
        streams: list[StreamInfo] = [*facts.media.streams, *facts.subtitles]
        item_id = w.item.id if w.item else None
        # One transaction for the row, its streams and then its images (their keys need the row's
        # id). Uploads wait on the network, so they run on asyncio's pool, not on the probe threads.
        async with self.pool.acquire() as conn, conn.transaction():
            await register.relax_commit(conn)
            item_id, inserted = await register.save_file(conn, library.id, item_id, fields, streams)
            rows = await asyncio.to_thread(images.save, self.store, item_id, facts.pictures)
            stale = await register.replace_images(conn, item_id, rows)
        if stale:
            await asyncio.to_thread(images.delete, self.store, stale)
        if w.reason == "moved":
            result.moved += 1
        elif inserted:
            result.added += 1
        else:
            result.updated += 1
        reporter.item(events.ITEM_ADDED if inserted else events.ITEM_UPDATED, item_id)
        if w.guess.type in PLAYABLE:
            if w.item is not None and w.reason in ("changed", "moved"):
                # Made from the file as it was (their key holds its path, size and mtime): never used again.
                await opening_store.forget(self.store, self.redis, self.keys, [item_id])
            if self.openings:
                reporter.opening(item_id)
        log.debug("%s %s %s", w.reason, item_id, w.file.path)
        return True

    async def _failed(self, library: Library, w: Work, error: str, result: ScanResult, *, retry: bool = False) -> None:
        """Record why a file was not scanned. A fault of the file itself (empty, truncated, unreadable)
        is recorded with its size and mtime, so it is not reopened until it changes; any other fault
        (the store or database failing) without them, so the next scan tries again."""
        log.warning("cannot scan %s: %s", w.file.path, error)
        result.failed += 1
        result.failures[w.file.path] = error
        size, mtime = (None, None) if retry else (w.file.size, w.file.mtime)
        await register.record_failure(self.pool, library.id, w.file.path, error, size, mtime)

    async def _remove(self, missing: list[register.FileRow], reporter: Reporter, result: ScanResult) -> None:
        if not missing:
            return
        async with self.pool.acquire() as conn:
            keys = await register.remove_items(conn, [row.id for row in missing])
        await asyncio.to_thread(images.delete, self.store, keys)
        await opening_store.forget(self.store, self.redis, self.keys, [r.id for r in missing if r.type in PLAYABLE])
        for row in missing:
            reporter.item(events.ITEM_REMOVED, row.id)
            log.info("removed %s (%s)", row.id, row.path)
        result.removed += len(missing)

    async def _prune_folders(self, library: Library, reporter: Reporter, result: ScanResult) -> None:
        """Seasons, then series, left without children."""
        for folder_type in ("season", "series"):
            ids = await register.empty_folders(self.pool, library.id, folder_type)
            if not ids:
                continue
            async with self.pool.acquire() as conn:
                keys = await register.remove_items(conn, ids)
            await asyncio.to_thread(images.delete, self.store, keys)
            for folder_id in ids:
                reporter.item(events.ITEM_REMOVED, folder_id)
            result.folders_removed += len(ids)
