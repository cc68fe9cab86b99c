"""Helpers for the Jellyfin-surface tests: Jellyfin's own OpenAPI document (10.11.11, read from
``shared/reference`` beside the repository, never copied into it), response validation against the
operation it documents, and logging in as a Jellyfin client does.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator

from tests.conftest import ROOT

DOC_NAME = "jellyfin-openapi-10.11.11.json"
CLIENT_AUTH = 'MediaBrowser Client="yaffw tests", Device="pytest", DeviceId="{device}", Version="1.0.0"'


def openapi_path() -> Path:
    """Where Jellyfin's document is: ``$JELLYFIN_OPENAPI``, else ``shared/reference`` beside the checkout."""
    candidates = [os.environ.get("JELLYFIN_OPENAPI", ""), ROOT.parent / "shared/reference" / DOC_NAME,
                  Path("/work/shared/reference") / DOC_NAME]  # fmt: skip
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail(f"Jellyfin's OpenAPI document {DOC_NAME} not found (set JELLYFIN_OPENAPI)")


@functools.cache
def openapi() -> dict[str, Any]:
    """Jellyfin's OpenAPI document."""
    return json.loads(openapi_path().read_text())


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in openapi()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        out.append((re.compile(f"^{pattern}$", re.IGNORECASE), template))
    # Literal paths before templated ones (/Users/Me before /Users/{userId}).
    out.sort(key=lambda t: t[1].count("{"))
    return out


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """(template, operation) of Jellyfin's document for a concrete ``path`` (case-insensitive)."""
    path = re.sub(r"^/(emby|mediabrowser)(?=/)", "", path.split("?")[0], flags=re.IGNORECASE)
    for pattern, template in _templates():
        if pattern.match(path):
            ops = openapi()["paths"][template]
            if method.lower() in ops:
                return template, ops[method.lower()]
    raise AssertionError(f"{method} {path} is not an operation of Jellyfin's API")


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The JSON schema Jellyfin documents for that answer, or ``None`` when it documents no body."""
    template, op = operation_for(method, path)
    responses = op.get("responses", {})
    documented = responses.get(str(status)) or responses.get("default")
    assert documented is not None, f"{method} {template}: status {status} is not documented ({sorted(responses)})"
    content = documented.get("content") or {}
    media = content.get("application/json") or next(iter(content.values()), None)
    return None if media is None else media.get("schema")


def validate(response: httpx.Response, *, method: str | None = None, path: str | None = None) -> Any:
    """Check ``response`` against the operation Jellyfin's document gives for its request; the JSON body."""
    method = method or response.request.method
    path = path or response.request.url.path
    schema = response_schema(method, path, response.status_code)
    if schema is None or not response.content:
        return None
    ctype = response.headers.get("content-type", "")
    if "json" not in ctype:
        return None  # images, playlists, media: Jellyfin documents them as binary
    body = response.json()
    validator = OAS30Validator({**schema, "components": openapi()["components"]})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method} {path}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5])  # fmt: skip
    return body


def client_headers(device: str = "pytest-device", token: str | None = None) -> dict[str, str]:
    """The authorization header a Jellyfin app sends (with its token once logged in)."""
    value = CLIENT_AUTH.format(device=device)
    if token:
        value += f', Token="{token}"'
    return {"Authorization": value}


async def login(http: httpx.AsyncClient, url: str, name: str, password: str, device: str = "pytest-device") -> str:
    """Log in through ``/Users/AuthenticateByName`` (validated); the access token."""
    r = await http.post(f"{url}/Users/AuthenticateByName", json={"Username": name, "Pw": password},
                        headers=client_headers(device))  # fmt: skip
    assert r.status_code == 200, r.text
    return validate(r)["AccessToken"]
