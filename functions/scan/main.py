"""The scan function (functions-framework, CloudEvent): ``yaffw function scan``.

Handles ``io.yaffw.library.scan.requested {library_id, path?}`` by scanning the library (or the
subtree ``path``) and answers when the scan is done. Bad events are answered 400 and unknown
libraries 404, with ``{"error": {"code", "message"}}``; any other type is acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import av.logging
import flask
import functions_framework
from cloudevents.http import CloudEvent
from yaffw import events, storage
from yaffw.db import create_pool
from yaffw.errors import BadInput, NotFound
from yaffw.keys import Keys
from yaffw.redis_client import async_client
from yaffw.settings import Settings

# functions-framework loads this file by path; make its package importable as in the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from yaffw_scan.scanner import Scanner, ScanResult

log = logging.getLogger("yaffw_scan")

# FFmpeg's own messages about broken files duplicate the failures the scan records.
av.logging.set_level(None)

settings = Settings.from_env()
store = storage.from_settings(settings)


async def _scan(library_id: str, path: str | None) -> list[ScanResult]:
    # One pool per event: the handler runs each event in its own event loop (asyncio.run).
    pool = await create_pool(settings.database_url, max_size=settings.scan_concurrency * 2 + 2)
    redis = async_client(settings.redis_url)
    try:
        scanner = Scanner(pool, redis, store, Keys(settings.redis_prefix), concurrency=settings.scan_concurrency,
                          openings=settings.openings)  # fmt: skip
        return await scanner.scan(library_id, path)
    finally:
        await redis.aclose()
        await pool.close()


def _refuse(exc: BadInput | NotFound) -> None:
    log.warning("refused scan request: %s", exc.message)
    body = flask.jsonify(error={"code": exc.code, "message": exc.message})
    flask.abort(flask.make_response(body, exc.status))


@functions_framework.cloud_event
def handle(event: CloudEvent) -> None:
    """Scan the library named by an ``io.yaffw.library.scan.requested`` event."""
    if event["type"] != events.SCAN_REQUESTED:
        log.info("ignoring event %s of type %s", event["id"], event["type"])
        return
    try:
        events.validate(event)
        data = events.data_of(event)
        results = asyncio.run(_scan(data["library_id"], data.get("path")))
    except (BadInput, NotFound) as exc:
        _refuse(exc)
        return
    for result in results:
        log.info("event %s: library %s %s", event["id"], result.library_id,
                 "queued behind a running scan" if result.queued else result.summary())  # fmt: skip
