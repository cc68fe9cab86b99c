"""``yaffw tick``: the local stand-in for the PingSource that emits ``io.yaffw.lease.tick``."""

from __future__ import annotations

import argparse
import signal
import threading

from yaffw import events
from yaffw.keys import Keys
from yaffw.logs import configure
from yaffw.redis_client import sync_client
from yaffw.settings import Settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``tick`` to the CLI."""
    p = sub.add_parser("tick", help="append io.yaffw.lease.tick to the event stream every N seconds")
    p.add_argument("--every", type=float, default=15.0, help="seconds between ticks (default 15)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Tick until SIGTERM/SIGINT."""
    settings = Settings.from_env()
    configure(settings.log_level, name="tick")
    settings.require("redis_url")
    redis = sync_client(settings.redis_url)
    stream = Keys(settings.redis_prefix).events
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        events.publish_sync(redis, stream, events.build(events.LEASE_TICK, "/yaffw/ticker", {}))
        stop.wait(args.every)
    return 0
