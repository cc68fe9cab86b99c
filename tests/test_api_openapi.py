"""``/api/openapi.json`` is a valid OpenAPI 3.1 document that covers every JSON route of the app."""

from __future__ import annotations

import re
import uuid

import httpx
from openapi_spec_validator import validate
from yaffw.settings import Settings
from yaffw_api.app import BLUEPRINTS, create_app
from yaffw_api.openapi import document

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}


def app_routes(settings: Settings) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) for every /api route the app registers."""
    app = create_app(settings, name=f"openapi-{uuid.uuid4().hex[:8]}")
    out = set()
    for route in app.router.routes:
        path = "/" + re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", route.path)
        if path.startswith("/api/"):
            out |= {(m, path) for m in route.methods if m in METHODS}
    return out


def test_every_api_route_is_documented(settings: Settings) -> None:
    doc = document(BLUEPRINTS)
    documented = {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}
    missing = sorted(app_routes(settings) - documented)
    assert not missing, f"routes missing from the OpenAPI document: {missing}"
    stale = sorted(documented - app_routes(settings))
    assert not stale, f"documented routes the app does not have: {stale}"


def test_served_document_is_valid_openapi_31(api_url: str) -> None:
    r = httpx.get(f"{api_url}/api/openapi.json", timeout=30)
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    validate(doc)
    assert "/api/items/{item_id}" in doc["paths"] and "/api/auth/login" in doc["paths"]
