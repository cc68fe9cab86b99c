# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""Schemathesis over the Jellyfin operations yaffw implements (issue 12): every operation of
Jellyfin's own OpenAPI document (10.11.11, read at test time) whose path and method the api
registers is called with generated input against the running api, authenticated with a real
token, once with every parameter generated and once with path ids that exist. Zero 5xx and zero
answers outside the documented schemas are allowed.

"Implemented" is computed from the app's router (the ``/_jf/...`` routes, mapped back onto the
document's templates case-insensitively), so a newly added endpoint is covered without editing
this file.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from yaffw.settings import Settings

from tests import jellyfin_support as jf
from tests.api_fixtures import data, http, no_login_limits  # noqa: F401
from tests.api_seed import PASSWORD, Seed

pytestmark = pytest.mark.timeout(600)

MAX_EXAMPLES = 8  # per operation and variant: the whole run stays around a minute or two
_FILLS = ("p0a1r2", "stream", "stream.mkv", "0.ts")
# Operations that end the caller's session or count failed logins: run last, with their own token.
_LAST = {("POST", "/Sessions/Logout"), ("POST", "/Users/AuthenticateByName")}


def implemented_operations(settings_: Settings) -> list[tuple[str, str]]:
    """``(METHOD, template)`` of the document's operations that the app registers under ``/_jf``."""
    from yaffw_api.app import create_app

    app = create_app(settings_, name=f"jf-schemathesis-{uuid.uuid4().hex[:8]}")
    found: set[tuple[str, str]] = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if not path.startswith("/_jf/"):
            continue
        pattern = path[len("/_jf") :]
        slots = len(re.findall(r"<[^>]+>", pattern))
        # A parameter may stand for a whole last segment ("stream.mkv", "0.ts"): try a few values.
        for values in itertools.product(_FILLS, repeat=slots):
            parts = re.split(r"<[^>]+>", pattern)
            concrete = "".join(p + v for p, v in zip(parts, (*values, ""), strict=True))
            for method in route.methods:
                try:
                    template, _ = jf.operation_for(method, concrete)
                except AssertionError:
                    continue  # a legacy alias or an extra yaffw route: not an operation of the document
                found.add((method.upper(), template))
    return sorted(found)


def _id_values(seed: Seed) -> dict[str, list[str]]:
    """Real ids for path parameters, by parameter name (Jellyfin's 32-hex form)."""

    def hx(v: str) -> str:
        return v.replace("-", "")

    items = [hx(seed.items[k]) for k in ("big", "show", "s1", "s1e1", "hevc")]
    return {
        "itemId": items,
        "id": items,
        "seriesId": [hx(seed.items["show"])],
        "userId": [hx(seed.users["alice"])],
        "displayPreferencesId": ["usersettings"],
    }


def _run_operation(op: Any, base_url: str, headers: dict[str, str], path_parameters: dict[str, str] | None,
                   failures: list[str], counts: dict[str, int]) -> None:  # fmt: skip
    """Call ``op`` with ``MAX_EXAMPLES`` generated cases; record failures instead of raising."""
    session = requests.Session()
    label = f"{op.method.upper()} {op.path}" + (f" {path_parameters}" if path_parameters else "")

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=op.as_strategy(path_parameters=path_parameters) if path_parameters else op.as_strategy())
    def run(case: Any) -> None:
        try:
            response = case.call(base_url=base_url, headers=headers, session=session, timeout=30)
        except requests.RequestException as exc:
            failures.append(f"{label}: transport error {exc!r}")
            return
        counts[str(response.status_code)[0] + "xx"] = counts.get(str(response.status_code)[0] + "xx", 0) + 1
        try:
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
            if response.status_code < 300:
                jf.validate(response, method=op.method, path=response.request.path_url.split("?")[0])  # type: ignore[arg-type]
        except (AssertionError, schemathesis.errors.FailureGroup) as exc:
            if len([f for f in failures if f.startswith(label)]) < 3:
                failures.append(f"{label}: {case.as_curl_command(headers=headers)}\n  -> {response.status_code} "
                                f"{response.text[:300]}\n  {str(exc)[:800]}")  # fmt: skip

    run()
    session.close()


def _fuzz(schema: Any, operations: list[tuple[str, str]], base_url: str, token_for: Callable[[], str],
          ids: dict[str, list[str]]) -> tuple[list[str], dict[str, int]]:  # fmt: skip
    failures: list[str] = []
    counts: dict[str, int] = {}
    ordered = sorted(operations, key=lambda o: o in _LAST)
    token = token_for()
    for method, template in ordered:
        if (method, template) in _LAST:
            token = token_for()  # its own session, so nothing after it depends on one it ended
        headers = jf.client_headers("schemathesis", token)
        op = schema[template][method.lower()]
        _run_operation(op, base_url, headers, None, failures, counts)
        names = re.findall(r"\{([^}]+)\}", template)
        if names and all(n in ids for n in names):
            for n in range(max(len(ids[name]) for name in names)):
                fixed = {name: ids[name][n % len(ids[name])] for name in names}
                _run_operation(op, base_url, headers, fixed, failures, counts)
    return failures, counts


@pytest.mark.usefixtures("no_login_limits")
async def test_implemented_operations_hold_to_jellyfins_document(
    api_url: str, settings: Settings, data: Seed, http: httpx.AsyncClient
) -> None:
    operations = implemented_operations(settings)
    assert ("GET", "/System/Info/Public") in operations and ("POST", "/Users/AuthenticateByName") in operations
    schema = schemathesis.openapi.from_dict(jf.openapi()).include(
        lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in set(operations)
    )
    loop = asyncio.get_running_loop()

    def token_for() -> str:
        return asyncio.run_coroutine_threadsafe(jf.login(http, api_url, "alice", PASSWORD, "schemathesis"),
                                                loop).result(60)  # fmt: skip

    failures, counts = await asyncio.to_thread(_fuzz, schema, operations, api_url, token_for, _id_values(data))
    print(f"{len(operations)} operations: {counts}")
    for method, template in operations:
        print(f"  {method} {template}")
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures)
    assert counts.get("2xx", 0) > len(operations)  # the fixed ids did reach real answers
