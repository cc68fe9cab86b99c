"""The local dispatcher: routes from Trigger manifests, retries, dead letters, no loss on restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from yaffw import events
from yaffw.dispatcher import GROUP, Delivery, Dispatcher
from yaffw.keys import Keys
from yaffw.settings import Settings
from yaffw.triggers import default_dir, load_routes

from tests.http_sink import Sink

TRIGGER = """
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: {name}}}
spec:
  broker: yaffw
  filter: {{attributes: {{type: {type}}}}}
  subscriber:
    ref: {{apiVersion: serving.knative.dev/v1, kind: Service, name: {service}}}
    {uri}
"""


def _knative(tmp_path: Path, triggers: list[tuple[str, str, str, str]]) -> Path:
    folder = tmp_path / "knative"
    folder.mkdir()
    docs = [TRIGGER.format(name=n, type=t, service=s, uri=f"uri: {u}" if u else "") for n, t, s, u in triggers]
    (folder / "triggers.yaml").write_text("---\n".join(docs))
    return folder


@pytest.fixture
def test_keys(settings: Settings) -> Keys:
    """A private stream per test."""
    return Keys(f"{settings.redis_prefix}{uuid.uuid4().hex[:6]}:")


async def _run_until(dispatcher: Dispatcher, done, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    task = asyncio.create_task(dispatcher.run())
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    dispatcher.stop()
    await asyncio.wait_for(task, 10)
    assert done(), "dispatcher did not finish in time"


def test_repository_triggers_route_to_the_functions() -> None:
    routes = load_routes(default_dir())
    assert [r.service for r in routes[events.SCAN_REQUESTED]] == ["yaffw-scan"]
    assert [r.service for r in routes[events.LEASE_TICK]] == ["yaffw-lease-reaper"]


async def test_event_reaches_the_function_its_trigger_names(tmp_path: Path, redis, test_keys: Keys) -> None:  # type: ignore[no-untyped-def]
    knative = _knative(
        tmp_path,
        [("scan", events.SCAN_REQUESTED, "svc-scan", ""), ("tick", events.LEASE_TICK, "svc-reaper", "/tick")],
    )
    with Sink() as scan, Sink() as reaper:
        scan_event = events.build(events.SCAN_REQUESTED, "/t", {"library_id": str(uuid.uuid4())})
        tick = events.build(events.LEASE_TICK, "/t")
        unrouted = events.build(events.ITEM_ADDED, "/t", {"item_id": "x"})
        for e in (scan_event, tick, unrouted):
            await events.publish(redis, test_keys.events, e)
        d = Dispatcher(redis, test_keys, load_routes(knative), {"svc-scan": scan.url, "svc-reaper": reaper.url})
        await _run_until(d, lambda: d.delivered == 3)
        assert scan.ids() == [scan_event["id"]]
        assert reaper.ids() == [tick["id"]]
        path, headers, _ = reaper.received[0]
        assert path == "/tick"
        assert headers["ce-type"] == events.LEASE_TICK  # binary mode
        assert (await redis.xpending(test_keys.events, GROUP))["pending"] == 0


async def test_failing_handler_parks_the_event_after_three_tries(tmp_path: Path, redis, test_keys: Keys) -> None:  # type: ignore[no-untyped-def]
    knative = _knative(tmp_path, [("tick", events.LEASE_TICK, "svc", "")])
    with Sink(fail_types=frozenset({events.LEASE_TICK})) as sink:
        tick = events.build(events.LEASE_TICK, "/t")
        await events.publish(redis, test_keys.events, tick)
        d = Dispatcher(redis, test_keys, load_routes(knative), {"svc": sink.url},
                       delivery=Delivery(attempts=3, backoff_seconds=0.01))  # fmt: skip
        await _run_until(d, lambda: d.delivered == 1)
        assert sink.ids() == [tick["id"]] * 3
    [(_, dead)] = await redis.xrange(test_keys.events_dead)
    assert events.from_json(dead["event"])["id"] == tick["id"]
    assert dead["route"] == "svc"
    assert "HTTP 500" in dead["error"]
    assert (await redis.xpending(test_keys.events, GROUP))["pending"] == 0


async def test_refused_event_is_parked_without_retries(tmp_path: Path, redis, test_keys: Keys) -> None:  # type: ignore[no-untyped-def]
    knative = _knative(tmp_path, [("tick", events.LEASE_TICK, "svc", "")])
    with Sink(fail_types=frozenset({events.LEASE_TICK}), fail_status=400) as sink:
        tick = events.build(events.LEASE_TICK, "/t")
        await events.publish(redis, test_keys.events, tick)
        d = Dispatcher(redis, test_keys, load_routes(knative), {"svc": sink.url},
                       delivery=Delivery(attempts=3, backoff_seconds=0.01))  # fmt: skip
        await _run_until(d, lambda: d.delivered == 1)
        assert sink.ids() == [tick["id"]]  # a 4xx is final
    [(_, dead)] = await redis.xrange(test_keys.events_dead)
    assert "HTTP 400" in dead["error"]


async def test_malformed_stream_entry_is_parked_not_retried_forever(tmp_path: Path, redis, test_keys: Keys) -> None:  # type: ignore[no-untyped-def]
    await redis.xadd(test_keys.events, {events.STREAM_FIELD: "{not json"})
    d = Dispatcher(redis, test_keys, {}, {})
    await _run_until(d, lambda: d.delivered + d.dead >= 1)
    [(_, dead)] = await redis.xrange(test_keys.events_dead)
    assert dead["error"].startswith("malformed")


def test_nothing_is_lost_when_the_dispatcher_is_killed_mid_stream(
    tmp_path: Path, settings: Settings, test_keys: Keys
) -> None:
    import redis as redis_sync

    knative = _knative(tmp_path, [("tick", events.LEASE_TICK, "svc", "")])
    client = redis_sync.Redis.from_url(settings.redis_url or "", decode_responses=True)
    published = []
    for _ in range(40):
        e = events.build(events.LEASE_TICK, "/t")
        events.publish_sync(client, test_keys.events, e)
        published.append(e["id"])
    with Sink(delay=0.3) as sink:
        env = {k: v for k, v in os.environ.items() if not k.startswith("YAFFW_")}
        env.update(settings.replace(redis_prefix=test_keys.prefix, knative_dir=knative,
                                    dispatch_targets={"svc": sink.url}).to_env())  # fmt: skip
        cmd = [sys.executable, "-m", "yaffw.cli", "dispatch", "--consumer", "local"]
        first = subprocess.Popen(cmd, env=env)
        deadline = time.monotonic() + 30
        while len(sink.ids()) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)  # mid-delivery: some entries read but not acknowledged
        first.wait()
        assert len(set(sink.ids())) < len(published)
        second = subprocess.Popen(cmd, env=env)
        try:
            deadline = time.monotonic() + 60
            while set(sink.ids()) != set(published) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert set(sink.ids()) == set(published)
            deadline = time.monotonic() + 10
            while client.xpending(test_keys.events, GROUP)["pending"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert client.xpending(test_keys.events, GROUP)["pending"] == 0
        finally:
            second.terminate()
            second.wait(15)
    client.close()
