"""CloudEvents: build, validate, parse in both HTTP modes, and clear errors for malformed ones."""

from __future__ import annotations

import json
import uuid

import pytest
from cloudevents.conversion import to_binary, to_structured
from yaffw import events
from yaffw.errors import BadInput

LIB = str(uuid.uuid4())


def test_round_trip_binary_and_structured() -> None:
    event = events.build(events.SCAN_REQUESTED, "/yaffw/test", {"library_id": LIB, "path": "/media/x"})
    for headers, body in (to_binary(event), to_structured(event)):
        parsed = events.parse_http(headers, body)
        assert parsed["type"] == events.SCAN_REQUESTED
        assert parsed["id"] == event["id"]
        assert events.data_of(parsed) == {"library_id": LIB, "path": "/media/x"}
    assert events.from_json(events.to_json(event))["source"] == "/yaffw/test"


@pytest.mark.parametrize(
    ("headers", "body", "fragment"),
    [
        ({}, b"not json at all", "not a CloudEvent"),
        ({"content-type": "application/cloudevents+json"}, b'{"specversion": "1.0"}', "not a CloudEvent"),
        (
            {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/x", "ce-type": "com.example.other",
             "content-type": "application/json"},
            b"{}", "is not io.yaffw",
        ),
        (
            {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/x", "ce-type": events.SCAN_REQUESTED,
             "content-type": "application/json"},
            b'{"library_id": "nope"}', "data.library_id must be a UUID",
        ),
        (
            {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/x", "ce-type": events.SCAN_REQUESTED,
             "content-type": "application/json"},
            json.dumps({"library_id": LIB, "path": "relative/dir"}).encode(), "data.path must be an absolute",
        ),
        (
            {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/x", "ce-type": events.LEASE_TICK,
             "content-type": "application/json"},
            b"[1, 2]", "data must be a JSON object",
        ),
        (
            {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/x", "ce-type": events.LEASE_TICK,
             "content-type": "application/json"},
            b"{broken", "data is not JSON",
        ),
    ],
)  # fmt: skip
def test_malformed_events_get_clear_errors(headers: dict[str, str], body: bytes, fragment: str) -> None:
    with pytest.raises(BadInput) as err:
        events.parse_http(headers, body)
    assert fragment in err.value.message
    assert err.value.status == 400


def test_build_refuses_invalid_data() -> None:
    with pytest.raises(BadInput, match="library_id"):
        events.build(events.SCAN_REQUESTED, "/yaffw/test", {})


async def test_publish_appends_structured_json(redis, keys) -> None:  # type: ignore[no-untyped-def]
    event = events.build(events.LEASE_TICK, "/yaffw/test")
    entry = await events.publish(redis, keys.events, event)
    [(_, fields)] = await redis.xrange(keys.events, entry, entry)
    assert events.from_json(fields[events.STREAM_FIELD])["id"] == event["id"]
