# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""Schemathesis over yaffw's own ``/api/openapi.json`` (issue 14): every operation the served
document describes is called with generated input against the running api and seeded data,
as a normal user (alice) and as an admin (root), with valid input and with input that breaks the
schema, then again with path ids that exist. Zero 5xx and zero answers outside the document (an
undocumented status code, content type or body shape) are allowed.

The run is derandomized (fixed seed, no example database) so a failure reproduces, and bounded:
``MAX_EXAMPLES`` per operation, role and variant keeps it around a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from yaffw.settings import Settings

from tests.api_fixtures import data, http, no_login_limits  # noqa: F401
from tests.api_seed import Seed, token

pytestmark = pytest.mark.timeout(600)

MAX_EXAMPLES = 10  # per operation, role and variant: the whole run stays around a minute on two cores
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]

# Not fuzzed at all: the notification stream is Server-Sent Events that never ends (a generated
# call would hang until its timeout; tests/test_api_notifications.py covers it).
EXCLUDED = {("GET", "/api/notifications")}
# Run last, each with a token of its own or only on a sacrificial user: logout revokes the token it
# is called with, and PATCH/DELETE of a user may disable or delete it (revoking its tokens), so
# nothing may run after them with the fuzzing tokens. Their fixed ids are bob's, never the fuzzers'.
# In this order: PATCH before DELETE, or the patches would only meet a deleted bob.
LAST = [("POST", "/api/auth/logout"), ("PATCH", "/api/users/{user_id}"), ("DELETE", "/api/users/{user_id}")]


def _id_values(seed: Seed, open_session: Callable[[str, bool], str]) -> dict[str, list[Any]]:
    """Real values for path parameters, by name (the others stay generated). A callable is called
    with the role just before its use: a playback session is opened afresh for each operation, so
    one that stopped it earlier (DELETE, or a per-user session limit) leaves the next one a live one."""
    i = seed.items
    return {
        "item_id": [i["big"], i["show"], i["s1e1"], i["secret"]],  # secret: alice may not see it
        "library_id": [seed.libraries["Movies"], seed.libraries["Private"]],
        "kind": ["primary"],
        "sid": [lambda role: open_session(role, False), lambda role: open_session(role, True)],
        "variant": ["0"],
        "name": ["index.m3u8", "0.ts"],
        "user_id": [seed.users["bob"]],
    }


def _run(op: Any, base_url: str, headers: dict[str, str], mode: GenerationMode,
         path_parameters: dict[str, str] | None, failures: list[str], counts: dict[str, int]) -> None:  # fmt: skip
    """Call ``op`` with ``MAX_EXAMPLES`` generated cases; record failures instead of raising."""
    http_session = requests.Session()
    label = f"{op.method.upper()} {op.path} [{mode.value}]" + (f" {path_parameters}" if path_parameters else "")
    strategy = op.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=strategy)
    def run(case: Any) -> None:
        try:
            response = case.call(base_url=base_url, headers=headers, session=http_session, timeout=30)
        except requests.RequestException as exc:
            failures.append(f"{label}: transport error {exc!r}")
            return
        bucket = str(response.status_code)[0] + "xx"
        counts[bucket] = counts.get(bucket, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, schemathesis.errors.FailureGroup) as exc:
            if len([f for f in failures if f.startswith(label)]) < 2:
                failures.append(f"{label}: {case.as_curl_command(headers=headers)}\n  -> {response.status_code} "
                                f"{response.text[:300]}\n  {str(exc)[:800]}")  # fmt: skip

    try:
        run()
    except Unsatisfiable:
        # Negative mode on an operation with nothing to get wrong (no parameters, no body).
        assert mode is GenerationMode.NEGATIVE, label
    finally:
        http_session.close()


def _fuzz(schema: Any, base_url: str, token_for: Callable[[str], str], ids: dict[str, list[Any]],
          ) -> tuple[list[str], dict[str, int], int]:  # fmt: skip
    failures: list[str] = []
    counts: dict[str, int] = {}
    operations = sorted((op.method.upper(), op.path) for op in (r.ok() for r in schema.get_all_operations()))
    ordered = sorted((o for o in operations if o not in EXCLUDED), key=lambda o: LAST.index(o) + 1 if o in LAST else 0)
    for role in ("alice", "root"):
        for method, path in ordered:
            # Each operation of LAST gets a fresh token: whatever it revokes, nothing else uses.
            headers = {"Authorization": f"Bearer {token_for(role)}"}
            op = schema[path][method.lower()]
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _run(op, base_url, headers, mode, None, failures, counts)
            names = [n for n in ids if "{" + n + "}" in path]
            for n in range(max((len(ids[name]) for name in names), default=0)):
                fixed = {name: ids[name][n % len(ids[name])] for name in names}
                fixed = {name: value(role) if callable(value) else value for name, value in fixed.items()}
                _run(op, base_url, headers, GenerationMode.POSITIVE, fixed, failures, counts)
    return failures, counts, len(ordered)


@pytest.mark.usefixtures("no_login_limits")
async def test_api_holds_to_its_openapi_document(
    api_url: str, settings: Settings, data: Seed, http: httpx.AsyncClient
) -> None:
    doc = (await http.get(f"{api_url}/api/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(doc)

    def token_for(role: str) -> str:
        return token(settings, data, role)

    def open_session(role: str, hls: bool) -> str:
        """A fresh playback session of ``big`` owned by ``role``: direct play, or HLS (direct stream)."""
        admin = {"Authorization": f"Bearer {token_for('root')}"}
        for s in requests.get(f"{api_url}/api/sessions", headers=admin, timeout=30).json()["sessions"]:
            requests.delete(f"{api_url}/api/sessions/{s['sid']}", headers=admin, timeout=30)  # under any limit
        caps = {"containers": ["mkv"], "video_codecs": ["h264"], "audio_codecs": ["aac"], "hls": True} if hls else {}
        r = requests.post(f"{api_url}/api/items/{data.items['big']}/playback", json={"capabilities": caps},
                          headers={"Authorization": f"Bearer {token_for(role)}"}, timeout=30)  # fmt: skip
        assert r.status_code == 201 and (r.json()["method"] != "direct_play") == hls, r.text
        return str(r.json()["session_id"])

    ids = _id_values(data, open_session)
    failures, counts, operations = await asyncio.to_thread(_fuzz, schema, api_url, token_for, ids)
    print(f"{operations} operations fuzzed: {counts}")
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
    assert counts.get("2xx", 0) > operations  # the fixed ids and both roles did reach real answers
