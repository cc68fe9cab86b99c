"""``yaffw dispatch``: the local stand-in for Knative Eventing's Broker and Triggers.

Reads the Redis stream ``events`` with a consumer group and POSTs each event (binary mode) to every
function whose Trigger matches its type. An entry is acknowledged only after every route answered
2xx, or after a route that kept failing parked it in the dead-letter stream ``events:dead``. A
dispatcher killed mid-delivery leaves its entries pending; on restart it (or another consumer, after
``claim_idle_ms``) delivers them again — at-least-once, so handlers are idempotent.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cloudevents.conversion import to_binary
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from yaffw import events
from yaffw.errors import BadInput
from yaffw.keys import Keys
from yaffw.logs import configure
from yaffw.redis_client import async_client
from yaffw.settings import Settings
from yaffw.triggers import Route, load_routes

log = logging.getLogger(__name__)

GROUP = "dispatch"


@dataclass
class Delivery:
    """Retry policy for one route."""

    attempts: int = 3
    backoff_seconds: float = 0.5
    timeout_seconds: float = 900.0  # a scan answers when it is done


class Dispatcher:
    """Delivers stream entries to the functions named by the Triggers."""

    def __init__(
        self,
        redis: Any,
        keys: Keys,
        routes: Mapping[str, list[Route]],
        targets: Mapping[str, str],
        *,
        consumer: str | None = None,
        delivery: Delivery | None = None,
        concurrency: int = 16,
        claim_idle_ms: int = 60_000,
    ):
        self.redis = redis
        self.keys = keys
        self.routes = routes
        self.targets = targets
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.delivery = delivery or Delivery()
        self.claim_idle_ms = claim_idle_ms
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self.delivered = 0
        self.dead = 0

    async def ensure_group(self) -> None:
        """Create the consumer group (from the stream's start, so nothing appended earlier is missed)."""
        try:
            await self.redis.xgroup_create(self.keys.events, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def stop(self) -> None:
        """Ask :meth:`run` to finish the deliveries in flight and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Deliver until :meth:`stop`; own pending entries first, then new ones, reclaiming stale ones."""
        await self.ensure_group()
        async with httpx.AsyncClient(timeout=httpx.Timeout(self.delivery.timeout_seconds, connect=5)) as http:
            self._http = http
            await self._read("0")  # what this consumer left unacknowledged before a restart
            last_claim = 0.0
            while not self._stopping.is_set():
                try:
                    if time.monotonic() - last_claim > self.claim_idle_ms / 2000:
                        await self._claim_stale()
                        last_claim = time.monotonic()
                    await self._read(">", block_ms=1000)
                except RedisConnectionError as exc:
                    # Redis restarting or failing over: wait and carry on; unacked entries stay pending.
                    if self._stopping.is_set():
                        break
                    log.warning("Redis unavailable (%s); retrying in 1 s", exc)
                    await asyncio.sleep(1)
            if self._tasks:
                await asyncio.wait(self._tasks)

    async def _read(self, start: str, block_ms: int | None = None) -> None:
        while True:
            reply = await self.redis.xreadgroup(
                GROUP, self.consumer, {self.keys.events: start}, count=32, block=block_ms
            )
            entries = reply[0][1] if reply else []
            for entry_id, fields in entries:
                if start != ">" and not fields:
                    # Pending entry whose data was trimmed away: nothing left to deliver.
                    await self.redis.xack(self.keys.events, GROUP, entry_id)
                    continue
                await self._spawn(entry_id, fields)
            if start == ">" or not entries:
                return
            start = entries[-1][0]  # page through this consumer's pending list

    async def _claim_stale(self) -> None:
        """Take over entries another (dead) consumer read but never acknowledged."""
        _, claimed, *_ = await self.redis.xautoclaim(
            self.keys.events, GROUP, self.consumer, min_idle_time=self.claim_idle_ms, start_id="0-0", count=64
        )
        for entry_id, fields in claimed:
            if fields:
                await self._spawn(entry_id, fields)
            else:
                await self.redis.xack(self.keys.events, GROUP, entry_id)

    async def _spawn(self, entry_id: str, fields: Mapping[str, str]) -> None:
        await self._slots.acquire()
        task = asyncio.create_task(self._handle(entry_id, fields))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception():
            log.error("delivery task failed", exc_info=task.exception())

    async def _handle(self, entry_id: str, fields: Mapping[str, str]) -> None:
        raw = fields.get(events.STREAM_FIELD, "")
        try:
            event = events.from_json(raw)
        except BadInput as exc:
            await self._park(entry_id, raw, None, f"malformed: {exc.message}")
            return
        for route in self.routes.get(event["type"], []):
            error = await self._deliver(event, route)
            if error is not None:
                await self._park(entry_id, raw, route, error)
        await self.redis.xack(self.keys.events, GROUP, entry_id)
        self.delivered += 1

    async def _deliver(self, event: Any, route: Route) -> str | None:
        """POST to one route with retries; returns None on success, else the last error."""
        base = self.targets.get(route.service)
        if base is None:
            return f"no target URL for service {route.service}"
        headers, body = to_binary(event)
        url = base.rstrip("/") + route.path
        error = "not attempted"
        for attempt in range(1, self.delivery.attempts + 1):
            try:
                response = await self._http.post(url, headers=headers, content=body)
                if 200 <= response.status_code < 300:
                    log.info("delivered %s %s to %s", event["type"], event["id"], route.service)
                    return None
                error = f"HTTP {response.status_code}: {response.text[:200]}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    return error  # the handler refused this event: sending it again cannot help
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            log.warning("delivery of %s to %s failed (%d/%d): %s", event["id"], route.service, attempt,
                        self.delivery.attempts, error)  # fmt: skip
            if attempt < self.delivery.attempts:
                await asyncio.sleep(self.delivery.backoff_seconds * 2 ** (attempt - 1))
        return error

    async def _park(self, entry_id: str, raw: str, route: Route | None, error: str) -> None:
        await self.redis.xadd(
            self.keys.events_dead,
            {"event": raw, "entry": entry_id, "route": route.service if route else "", "error": error,
             "failed_at": str(time.time())},
            maxlen=events.STREAM_MAXLEN, approximate=True,
        )  # fmt: skip
        self.dead += 1
        log.error("parked event %s in %s: %s", entry_id, self.keys.events_dead, error)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``dispatch`` to the CLI."""
    p = sub.add_parser("dispatch", help="deliver events from the Redis stream to the functions (local)")
    p.add_argument("--consumer", default=None, help="consumer name (default: host-pid)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run until SIGTERM/SIGINT."""
    settings = Settings.from_env()
    configure(settings.log_level, name="dispatch")
    settings.require("redis_url", "dispatch_targets")

    async def main() -> None:
        redis = async_client(settings.redis_url)
        dispatcher = Dispatcher(redis, Keys(settings.redis_prefix), load_routes(settings.knative_dir),
                                settings.dispatch_targets, consumer=args.consumer)  # fmt: skip
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, dispatcher.stop)
        try:
            await dispatcher.run()
        finally:
            await redis.aclose()

    asyncio.run(main())
    return 0
