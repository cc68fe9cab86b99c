"""Library admin API (issue 3) and ``POST /api/events``: scan requests land on the event stream."""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import redis.asyncio as redis_async
from yaffw import events
from yaffw.keys import Keys
from yaffw.settings import Settings

from tests.api_fixtures import data, http  # noqa: F401
from tests.api_seed import Seed, bearer


async def stream_event(redis: redis_async.Redis, keys: Keys, event_id: str) -> events.CloudEvent:
    """The event with ``event_id`` from the stream (the newest entries are searched)."""
    for _, fields in await redis.xrevrange(keys.events, count=200):
        event = events.from_json(fields[events.STREAM_FIELD])
        if event["id"] == event_id:
            return event
    raise AssertionError(f"event {event_id} not on the stream")


async def test_create_and_list_libraries(http: httpx.AsyncClient, api_url: str, data: Seed,
                                         settings: Settings) -> None:  # fmt: skip
    admin = bearer(settings, data, "root")
    body = {"name": "Cartoons", "kind": "mixed", "paths": ["/media/cartoons/", "/media/x/../more"]}
    r = await http.post(f"{api_url}/api/libraries", headers=admin, json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["paths"] == ["/media/cartoons", "/media/more"] and made["item_count"] == 0
    names = [lib["name"] for lib in (await http.get(f"{api_url}/api/libraries", headers=admin)).json()["items"]]
    assert "Cartoons" in names
    # Alice does not see it until she is given it.
    alice = bearer(settings, data, "alice")
    assert (await http.get(f"{api_url}/api/libraries/{made['id']}", headers=alice)).status_code == 404
    r = await http.patch(f"{api_url}/api/users/{data.users['alice']}", headers=admin,
                         json={"library_ids": [made["id"]]})  # fmt: skip
    assert r.status_code == 200
    got = (await http.get(f"{api_url}/api/libraries/{made['id']}", headers=alice)).json()
    assert got["name"] == "Cartoons" and "paths" not in got
    bad_bodies = [
        {"name": "cartoons", "kind": "mixed", "paths": ["/y"]},  # 409: names are unique in any case
        {"name": "N", "kind": "music", "paths": ["/y"]}, {"name": "N", "kind": "movies", "paths": []},
        {"name": "N", "kind": "movies", "paths": ["relative"]}, {"name": "N", "kind": "movies", "paths": "/y"},
        {"name": "", "kind": "movies", "paths": ["/y"]}, {"name": "N", "kind": "movies", "paths": ["/a\x00b"]},
        {"name": "N", "kind": "movies", "paths": ["/y"], "extra": 1},
    ]  # fmt: skip
    for body in bad_bodies:
        r = await http.post(f"{api_url}/api/libraries", headers=admin, json=body)
        assert r.status_code == (409 if body["name"] == "cartoons" else 400), (body, r.text)


async def test_scan_request_emits_event(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings,
                                        redis: redis_async.Redis, keys: Keys) -> None:  # fmt: skip
    admin = bearer(settings, data, "root")
    movies = data.libraries["Movies"]
    r = await http.post(f"{api_url}/api/libraries/{movies}/scan", headers=admin)
    assert r.status_code == 202, r.text
    event = await stream_event(redis, keys, r.json()["id"])
    assert event["type"] == events.SCAN_REQUESTED and events.data_of(event) == {"library_id": movies}
    r = await http.post(f"{api_url}/api/libraries/{movies}/scan", headers=admin,
                        json={"path": "/media/movies/Big Buck Test (2020)/"})  # fmt: skip
    assert r.status_code == 202
    event = await stream_event(redis, keys, r.json()["id"])
    assert events.data_of(event)["path"] == "/media/movies/Big Buck Test (2020)"
    for path in ("/media/moviesX", "/media/movies/../shows", "/etc", "relative", 5):
        r = await http.post(f"{api_url}/api/libraries/{movies}/scan", headers=admin, json={"path": path})
        assert r.status_code == 400, (path, r.text)
    for library_id in (str(uuid.uuid4()), "nope", "..%2F.."):
        assert (await http.post(f"{api_url}/api/libraries/{library_id}/scan", headers=admin)).status_code == 404


def structured(type_: str, data: object, **extra: object) -> bytes:
    return json.dumps({"specversion": "1.0", "type": type_, "source": "/test", "id": uuid.uuid4().hex,
                       "data": data, **extra}).encode()  # fmt: skip


async def test_events_endpoint(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings,
                               redis: redis_async.Redis, keys: Keys) -> None:  # fmt: skip
    service = {"Authorization": f"Bearer {settings.service_token}",
               "Content-Type": "application/cloudevents+json"}  # fmt: skip
    movies = data.libraries["Movies"]
    body = structured(events.SCAN_REQUESTED, {"library_id": movies, "path": "/media/movies/new"})
    r = await http.post(f"{api_url}/api/events", content=body, headers=service)
    assert r.status_code == 202, r.text
    assert (await stream_event(redis, keys, r.json()["id"]))["source"] == "/test"
    binary = {**bearer(settings, data, "root"), "Content-Type": "application/json", "ce-specversion": "1.0",
              "ce-type": events.SCAN_REQUESTED, "ce-source": "/nas", "ce-id": "abc-1"}  # fmt: skip
    r = await http.post(f"{api_url}/api/events", content=json.dumps({"library_id": movies}), headers=binary)
    assert r.status_code == 202, r.text
    assert (await stream_event(redis, keys, "abc-1"))["source"] == "/nas"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not a CloudEvent"),
        (b"{}", "not a CloudEvent"),
        (json.dumps({"type": "io.yaffw.library.scan.requested", "source": "/x"}).encode(), "not a CloudEvent"),
        (structured("com.example.thing", {}), "is not io.yaffw"),
        (structured("io.yaffw.library.made.up", {}), "unknown event type"),
        (structured(events.SCAN_REQUESTED, {"library_id": "nope"}), "library_id must be a UUID"),
        (structured(events.SCAN_REQUESTED, {"library_id": str(uuid.uuid4()), "path": "rel"}), "absolute path"),
        (structured(events.SCAN_REQUESTED, [1, 2]), "JSON object"),
        (structured(events.SCAN_REQUESTED, {}, source=""), "source"),
    ],
)
async def test_malformed_events_are_400(http: httpx.AsyncClient, api_url: str, settings: Settings, body: bytes,
                                        message: str) -> None:  # fmt: skip
    headers = {"Authorization": f"Bearer {settings.service_token}", "Content-Type": "application/cloudevents+json"}
    r = await http.post(f"{api_url}/api/events", content=body, headers=headers)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "bad_event" and message in error["message"], error


async def test_events_auth_and_unknown_library(http: httpx.AsyncClient, api_url: str, data: Seed,
                                               settings: Settings) -> None:  # fmt: skip
    body = structured(events.SCAN_REQUESTED, {"library_id": str(uuid.uuid4())})
    ct = {"Content-Type": "application/cloudevents+json"}
    assert (await http.post(f"{api_url}/api/events", content=body, headers=ct)).status_code == 401
    wrong = {**ct, "Authorization": "Bearer not-the-service-token"}
    assert (await http.post(f"{api_url}/api/events", content=body, headers=wrong)).status_code == 401
    user = {**ct, **bearer(settings, data, "alice")}
    assert (await http.post(f"{api_url}/api/events", content=body, headers=user)).status_code == 403
    admin = {**ct, **bearer(settings, data, "root")}
    r = await http.post(f"{api_url}/api/events", content=body, headers=admin)
    assert r.status_code == 404 and "library" in r.json()["error"]["message"]
    big = structured(events.SCAN_REQUESTED, {"library_id": data.libraries["Movies"], "pad": "x" * 300_000})
    assert (await http.post(f"{api_url}/api/events", content=big, headers=admin)).status_code == 413
