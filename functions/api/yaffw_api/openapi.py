"""``GET /api/openapi.json``: the OpenAPI 3.1 document, gathered from the ``OPENAPI`` dict of every
module in ``app.BLUEPRINTS`` (see ``apidoc``).
"""

from __future__ import annotations

import importlib
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from yaffw_api.apidoc import SCHEMAS, op

bp = Blueprint("openapi")


def document(modules: list[str]) -> dict[str, Any]:
    """The OpenAPI document for the routes the given modules describe."""
    paths: dict[str, Any] = {}
    for name in modules:
        for path, operations in getattr(importlib.import_module(name), "OPENAPI", {}).items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.1.0",
        "info": {"title": "yaffw", "version": "1", "description": "yaffw media server JSON API (DESIGN §9)."},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "yaffw_token"},
            },
        },
        "security": [{"bearer": []}, {"cookie": []}],
    }


@bp.get("/api/openapi.json")
async def openapi_json(request: Request) -> HTTPResponse:
    """The document (built once per process)."""
    cached = getattr(request.app.ctx, "openapi", None)
    if cached is None:
        from yaffw_api.app import BLUEPRINTS

        cached = request.app.ctx.openapi = document(BLUEPRINTS)
    return json(cached)


OPENAPI = {"/api/openapi.json": {"get": op("This document", tag="meta", schema={"type": "object"}, auth=False,
                                           errors=())}}  # fmt: skip
