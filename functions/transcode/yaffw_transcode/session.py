"""One playback session on this worker: its segment store and its encoder.

Segments live in ``<scratch>/<variant>/<n>.ts``, moved there by the encoder run that made them.
A request for segment ``n``:

- already made → served at once;
- being made, or at most :data:`AHEAD_SECONDS` ahead of the encoder → wait for it;
- otherwise (a seek far ahead or back, another variant, no encoder) → restart the encoder at ``n``.

An encoder that reaches segments an earlier run made restarts at the first missing one, so a seek
back then forward again does not encode twice; one that runs far ahead of the player is paused.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import shutil
import time
from pathlib import Path

from yaffw.media import ffmpeg, hls
from yaffw.media.source import Plan, Source, concat_list
from yaffw.queue import JobPayload

from yaffw_transcode import metrics
from yaffw_transcode.encoder import Encoder
from yaffw_transcode.first_segments import FirstSegments, run_key
from yaffw_transcode.openings import Openings

log = logging.getLogger(__name__)

# Waiting for the encoder to reach a segment this far ahead beats restarting it (a cold start costs
# about one segment's encode on a small CPU).
AHEAD_SECONDS = 12.0
# Pause FFmpeg when it is this far ahead of what the player fetched (RAM disk and CPU for others).
PAUSE_AHEAD_SECONDS = 120.0
# Keep this much already-watched video in scratch for short seeks back; older segments are deleted, so
# a two-hour film does not fill the RAM disk (a seek further back restarts the encoder, as any seek does).
KEEP_BEHIND_SECONDS = 300.0
# A segment whose encoder failed this many times in a row fails the session.
MAX_FAILURES = 3


class NotReady(Exception):
    """The segment is being made but was not ready in time."""


class SessionFailed(Exception):
    """FFmpeg cannot make this session's segments."""


class BeyondEnd(Exception):
    """The segment lies past the end of the media streams (the container's duration is longer)."""


class TranscodeSession:
    """State of one session; all methods run on the worker's event loop."""

    def __init__(self, job: JobPayload, raw: str, source: Source, plan: Plan, scratch: Path, hw: ffmpeg.HwAccel,
                 cache: FirstSegments | None = None, openings: Openings | None = None):  # fmt: skip
        self.job = job
        self.cache = cache if cache is not None and cache.enabled else None
        self.openings = openings if openings is not None and openings.enabled else None
        self.raw = raw  # the processing-list entry this session holds
        self.source = source
        self.plan = plan
        self.scratch = scratch
        self.hw = hw
        self.sid = job.sid
        self.encoder: Encoder | None = None
        self.made: dict[str, set[int]] = {}
        # Per variant, the first segment FFmpeg cannot make because the streams end before it.
        self.beyond: dict[str, int] = {}
        self.last_served = -1
        # Where the player is: the latest segment it asked for, made or not. A seek far ahead must not
        # leave the new encoder paused for being "ahead" of the old position.
        self.player_at = -1
        # Without a variant in the job: the one players start with (listed first in the master playlist).
        self.last_variant = job.variant if job.variant else hls.start_variant(plan.variants).name
        self.failures = 0
        self.error: str | None = None
        self.closed = False
        self.started_at = time.monotonic()
        self._runs = 0
        self._requests = 0  # numbers every segment request; only the newest may move the encoder
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        self._upload: asyncio.Task[bool] | None = None
        # Segments on their way from object storage (openings), per variant: being made, not missing.
        self._fetching: dict[str, set[int]] = {}
        self._fetch_task: asyncio.Task[None] | None = None

    @property
    def segment_count(self) -> int:
        """How many segments the playlist lists."""
        return len(self.plan.starts)

    def _ahead(self) -> int:
        return max(1, math.ceil(AHEAD_SECONDS / self.job.segment_seconds))

    def is_made(self, variant: str, n: int) -> bool:
        """True when segment ``n`` of ``variant`` is complete in scratch."""
        return n in self.made.get(variant, ())

    def path(self, variant: str, n: int) -> Path:
        """Where segment ``n`` of ``variant`` is kept."""
        return self.scratch / variant / f"{n}.ts"

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _mark_beyond(self, variant: str, n: int) -> None:
        self.beyond[variant] = min(self.beyond.get(variant, n), n)
        self._notify()

    @property
    def cached_count(self) -> int:
        """How many first segments the cache keeps of a film: those starting in its first ``S``
        seconds (the ramp, :func:`yaffw.media.hls.ramp`)."""
        return sum(1 for t in self.plan.starts if t < self.job.segment_seconds - 1e-6)

    def run_key(self, variant: str) -> str | None:
        """What names the first segments of a run of ``variant`` from segment 0, in the first-segment
        cache and in object storage (transcoded video only: copied video starts fast anyway)."""
        v = self.plan.variant(variant)
        # Burned-in subtitles come from another file (a sidecar) the key does not follow: not kept.
        if v is None or v.copy or self.source.parts or self.job.burn_subtitle is not None:
            return None
        return run_key(ffmpeg.build(self._spec(variant, 0, self.scratch / ".run"), self.hw), self.source.path)

    def _kept_key(self, variant: str) -> str | None:
        return self.run_key(variant) if self.cache is not None or self.openings is not None else None

    def _from_cache(self, variant: str) -> bool:
        """Take the film's first segments of ``variant`` from the cache into this session's store;
        True when they were all there (the encoder then starts when the player asks for the next)."""
        key = self._kept_key(variant)
        files = self.cache.lookup(key, self.cached_count) if self.cache is not None and key else None
        if not files:
            return False
        for n, cached in enumerate(files):
            dest = self.path(variant, n)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(cached, dest)
            except FileExistsError:
                pass
            except OSError:
                shutil.copyfile(cached, dest)
            self.made.setdefault(variant, set()).add(n)
        metrics.FIRST_SEGMENTS_CACHED.inc()
        log.info("session %s: segments 0-%d of %s from the first-segment cache", self.sid, len(files) - 1, variant)
        self._notify()
        return True

    async def _from_openings(self, variant: str) -> bool:
        """Take the film's first segments of ``variant`` from object storage (made after the scan
        asked, or by the film's first playback on any worker): segment 0 now, the others in the
        background while the player starts. True when segment 0 came; a later one that fails is
        made by the encoder when the player asks for it."""
        key = self._kept_key(variant)
        if self.openings is None or key is None:
            return False
        count = await self.openings.indexed(self.source.item_id, key)
        if count != self.cached_count:
            return False
        if not await self.openings.fetch(self.source.item_id, key, 0, self.path(variant, 0)):
            return False
        self._fetched(key, variant, 0)
        self._fetching[variant] = set(range(1, count))
        self._fetch_task = asyncio.create_task(self._fetch_rest(key, variant, count))
        metrics.FIRST_SEGMENTS_CACHED.inc()
        log.info("session %s: segments 0-%d of %s from openings", self.sid, count - 1, variant)
        return True

    def _fetched(self, key: str, variant: str, n: int) -> None:
        self.made.setdefault(variant, set()).add(n)
        if self.cache is not None:
            self.cache.store(key, n, self.path(variant, n))  # the next session on this machine skips the store
        self._notify()

    async def _fetch_rest(self, key: str, variant: str, count: int) -> None:
        assert self.openings is not None
        openings = self.openings

        async def one(n: int) -> None:
            ok = await openings.fetch(self.source.item_id, key, n, self.path(variant, n))
            self._fetching.get(variant, set()).discard(n)
            if ok and not self.closed:
                self._fetched(key, variant, n)
            else:
                self._notify()  # a request waiting for it now starts the encoder there

        await asyncio.gather(*(one(n) for n in range(1, count)))

    def _publish_opening(self, enc: Encoder) -> None:
        """A run from 0 has made the film's first segments: keep them in object storage for every
        worker (in the background; a failure only costs a later session its fast start)."""
        if self.openings is None or enc.cache_key is None or self._upload is not None:
            return
        files = [self.path(enc.variant, n) for n in range(self.cached_count)]
        self._upload = asyncio.create_task(self.openings.publish(self.source.item_id, enc.cache_key, files))

    def _on_segment(self, enc: Encoder, n: int, made_at: Path) -> None:
        if not made_at.exists() or made_at.stat().st_size == 0:
            # Nothing left to put in it: the streams ended before this segment's start.
            made_at.unlink(missing_ok=True)
            self._mark_beyond(enc.variant, n)
            return
        dest = self.path(enc.variant, n)
        dest.parent.mkdir(parents=True, exist_ok=True)
        made_at.replace(dest)  # atomic: a reader of an older copy keeps its file
        self.made.setdefault(enc.variant, set()).add(n)
        if enc.cache_key and n < self.cached_count:
            if self.cache is not None:
                self.cache.store(enc.cache_key, n, dest)
            if n == self.cached_count - 1:
                self._publish_opening(enc)
        self.failures = 0
        metrics.SEGMENTS_MADE.inc()
        self._notify()
        nxt = n + 1
        if nxt < self.segment_count and self.is_made(enc.variant, nxt) and enc is self.encoder:
            # Caught up with an earlier run: continue after what already exists.
            missing = next((m for m in range(nxt, self.segment_count) if not self.is_made(enc.variant, m)), None)
            self._background = asyncio.create_task(self._catch_up(enc, missing))

    async def _catch_up(self, enc: Encoder, missing: int | None) -> None:
        async with self._lock:
            if enc is not self.encoder or self.closed:
                return
            if missing is None:
                await enc.stop()
            else:
                await self._restart(enc.variant, missing)

    def _on_exit(self, enc: Encoder) -> None:
        if enc.failed and enc is self.encoder:
            self.failures += 1
            self.error = enc.stderr_tail[-300:] or f"ffmpeg exited with {enc.returncode}"
        elif enc.returncode == 0 and not enc.stopped and enc.head < self.segment_count:
            self._mark_beyond(enc.variant, enc.head)
        if enc.run_dir.exists():
            shutil.rmtree(enc.run_dir, ignore_errors=True)
        self._notify()

    async def _restart(self, variant: str, n: int) -> None:
        """Stop the current encoder and start one for ``variant`` at segment ``n`` (lock held)."""
        if self.encoder is not None:
            await self.encoder.stop()
        if self.closed:
            return
        self._runs += 1
        spec = self._spec(variant, n, self.scratch / f".run{self._runs}")
        enc = Encoder(ffmpeg.build(spec, self.hw), variant, n, spec.out_dir, self._on_segment, self._on_exit)
        if n == 0:
            enc.cache_key = self._kept_key(variant)  # its first segments are kept for the next session
        self.encoder = enc
        if self._runs > 1:
            metrics.RESTARTS.inc()
        log.info("session %s: encoder for %s from segment %d (run %d)", self.sid, variant, n, self._runs)
        await enc.launch()

    def _spec(self, variant: str, n: int, out_dir: Path) -> ffmpeg.EncodeSpec:
        """What a run of ``variant`` from segment ``n`` into ``out_dir`` makes."""
        v = self.plan.variant(variant)
        assert v is not None
        return ffmpeg.EncodeSpec(
            source=self._input(), concat=bool(self.source.parts), variant=v, starts=self.plan.starts, start_segment=n,
            out_dir=out_dir, audio=self.job.audio, audio_index=self.job.audio_index,
            audio_source_codec=(self.source.audio or {}).get("codec"),
            audio_source_channels=(self.source.audio or {}).get("channels"), burn_subtitle=self.job.burn_subtitle,
            burn_path=self.source.burn_path,
            has_video=self.source.video is not None,
            keyframes=self.plan.keyframes, duration=self.plan.duration, end=self.plan.duration,
        )  # fmt: skip

    def _input(self) -> str:
        """What FFmpeg reads: the file, or for a film in parts a concat list of them in scratch."""
        if not self.source.parts:
            return self.source.path
        listing = self.scratch / "parts.ffconcat"
        if not listing.exists():
            self.scratch.mkdir(parents=True, exist_ok=True)
            listing.write_text(concat_list(self.source.parts))
        return str(listing)

    def _needs_restart(self, variant: str, n: int) -> bool:
        if n in self._fetching.get(variant, ()):
            return False  # on its way from object storage
        enc = self.encoder
        if enc is None or enc.variant != variant or enc.stopped or enc.returncode is not None:
            return True
        return not enc.start <= n <= enc.head + self._ahead() - 1

    async def start(self, variant: str | None, n: int) -> None:
        """Make sure segment ``n`` of ``variant`` (default: the first variant) is made or being made."""
        name = variant or self.last_variant
        async with self._lock:
            if self.is_made(name, n) or not self._needs_restart(name, n):
                return
            if n == 0 and self.encoder is None and (self._from_cache(name) or await self._from_openings(name)):
                return  # a new session of a film started before: no encoder until the player needs one
            await self._restart(name, n)

    async def segment(self, variant: str, n: int, wait: float) -> Path:
        """The file of segment ``n``, waiting up to ``wait`` seconds for it.

        :raises NotReady: still being made after ``wait``. :raises SessionFailed: FFmpeg keeps failing.
        """
        deadline = time.monotonic() + wait
        self.last_variant = variant
        self.player_at = n
        self._requests += 1
        mine = self._requests
        while True:
            if self.closed:
                raise SessionFailed("session ended")
            if n >= self.beyond.get(variant, self.segment_count):
                raise BeyondEnd(f"segment {n} is past the end of the media")
            if self.is_made(variant, n):
                self.last_served = n  # players fetch in order; after a seek, the latest is where they are
                self._throttle(n)
                self.evict_behind(n)
                return self.path(variant, n)
            if self.failures >= MAX_FAILURES:
                raise SessionFailed(self.error or "ffmpeg failed")
            changed = self._changed
            if mine == self._requests:
                # Only the player's newest request may (re)start the encoder: one still waiting for the
                # variant it left, or for the segment before a seek, would otherwise restart at its own
                # segment, and the two would take the encoder from each other until one gave up (a
                # seek to segment 5 behind a wait for segment 3 got 503 after 9 s).
                await self.start(variant, n)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotReady(f"segment {n} not ready")
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                continue

    def evict_behind(self, n: int) -> int:
        """Delete made segments (of every variant) more than :data:`KEEP_BEHIND_SECONDS` before
        segment ``n``; returns how many. A reader of a deleted file keeps its open copy."""
        first_kept = n - math.ceil(KEEP_BEHIND_SECONDS / self.job.segment_seconds)
        evicted = 0
        for variant, made in self.made.items():
            for old in [m for m in made if m < first_kept]:
                made.discard(old)
                self.path(variant, old).unlink(missing_ok=True)
                evicted += 1
        return evicted

    def _throttle(self, served: int) -> None:
        enc = self.encoder
        if enc is None or enc.variant != self.last_variant:
            return
        lead = (enc.head - served) * self.job.segment_seconds
        if lead > PAUSE_AHEAD_SECONDS:
            enc.pause()
        else:
            enc.resume()

    def check_throttle(self) -> None:
        """Pause or resume the encoder by how far ahead of the player it is (called periodically)."""
        self._throttle(max(self.player_at, self.job.start_segment))

    def resume_segment(self) -> int:
        """Where another worker should continue: the segment after the last one the player fetched."""
        if self.last_served < 0:
            return self.job.start_segment
        return min(self.last_served + 1, self.segment_count - 1)

    def ready_segment_made(self, n: int) -> bool:
        """True once the segment a job started at exists (the worker then publishes ``ready``)."""
        return self.is_made(self.last_variant, n)

    async def wait_made(self, variant: str, n: int, timeout: float) -> bool:
        """Wait until segment ``n`` exists; False on timeout, failure or close."""
        deadline = time.monotonic() + timeout
        while not self.is_made(variant, n):
            if n >= self.beyond.get(variant, self.segment_count):
                return False
            if self.closed or (self.failures >= 1 and (self.encoder is None or not self.encoder.running)):
                return False
            changed = self._changed
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return False
        return True

    async def close(self) -> None:
        """Stop FFmpeg and free scratch."""
        self.closed = True
        if self._fetch_task is not None:
            self._fetch_task.cancel()
            await asyncio.gather(self._fetch_task, return_exceptions=True)
        async with self._lock:
            if self.encoder is not None:
                await self.encoder.stop()
        shutil.rmtree(self.scratch, ignore_errors=True)
        self._notify()
