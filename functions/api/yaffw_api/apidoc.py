"""Building blocks for the OpenAPI document (``GET /api/openapi.json``, see ``yaffw_api.openapi``).

Each api module describes its own routes next to them in a module-level ``OPENAPI`` dict
(``{path: {method: operation}}``) built with :func:`op`; ``openapi.py`` gathers them from every
module in ``BLUEPRINTS``, and a test fails when a ``/api`` route is missing.
"""

from __future__ import annotations

from typing import Any

NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_NUM = {"type": ["number", "null"]}
UUID = {"type": "string", "format": "uuid"}
# yaffw.users.check_name: 1 to 64 characters once trimmed, no control characters.
USER_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "pattern": "^\\s*[^\\x00-\\x1f\\x7f\\s][^\\x00-\\x1f\\x7f]*$",
}


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def page_of(name: str) -> dict[str, Any]:
    """``{items: [name], total}``."""
    return {"type": "object", "required": ["items", "total"],
            "properties": {"items": {"type": "array", "items": ref(name)},
                           "total": {"type": "integer", "minimum": 0}}}  # fmt: skip


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"],
                                 "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "User": {
        "type": "object", "required": ["id", "name", "is_admin", "is_disabled", "library_ids"],
        "properties": {"id": UUID, "name": {"type": "string"}, "is_admin": {"type": "boolean"},
                       "is_disabled": {"type": "boolean"}, "created_at": {"type": "string"},
                       "updated_at": {"type": "string"}, "last_login_at": NULLABLE_STR,
                       "library_ids": {"type": "array", "items": UUID},
                       "max_sessions": {**NULLABLE_INT, "description": "null: YAFFW_MAX_SESSIONS_PER_USER"},
                       "max_transcodes": {**NULLABLE_INT, "description": "null: YAFFW_MAX_TRANSCODES_PER_USER"},
                       "audio_languages": {"type": "array", "items": {"type": "string"},
                                           "description": "preferred audio languages (ISO 639-2/T)"}},
    },
    "NewUser": {
        "type": "object", "required": ["name", "password"], "additionalProperties": False,
        "properties": {"name": USER_NAME,
                       "password": {"type": "string", "minLength": 1, "maxLength": 1024},
                       "is_admin": {"type": "boolean"}, "library_ids": {"type": "array", "items": UUID}},
    },
    "UserChanges": {
        "type": "object", "additionalProperties": False,
        "properties": {"name": USER_NAME,
                       "password": {"type": "string", "minLength": 1, "maxLength": 1024},
                       "is_admin": {"type": "boolean"}, "is_disabled": {"type": "boolean"},
                       "library_ids": {"type": "array", "items": UUID},
                       "max_sessions": {**NULLABLE_INT, "minimum": 1, "maximum": 10000},
                       "max_transcodes": {**NULLABLE_INT, "minimum": 0, "maximum": 10000}},
    },
    "Library": {
        "type": "object", "required": ["id", "name", "kind", "item_count"],
        "properties": {"id": UUID, "name": {"type": "string"}, "kind": {"enum": ["movies", "shows", "mixed"]},
                       "paths": {"type": "array", "items": {"type": "string"}}, "created_at": {"type": "string"},
                       "last_scan_at": NULLABLE_STR, "item_count": {"type": "integer"}},
    },
    "NewLibrary": {
        "type": "object", "required": ["name", "kind", "paths"], "additionalProperties": False,
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 128},
                       "kind": {"enum": ["movies", "shows", "mixed"]},
                       "paths": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^/"}}},
    },
    "UserData": {
        "type": "object", "required": ["played", "position_seconds", "favorite", "play_count"],
        "properties": {"played": {"type": "boolean"}, "position_seconds": {"type": "number"},
                       "favorite": {"type": "boolean"}, "play_count": {"type": "integer"},
                       "last_played_at": NULLABLE_STR},
    },
    "UserDataChanges": {
        "type": "object", "additionalProperties": False,
        "properties": {"played": {"type": "boolean"}, "favorite": {"type": "boolean"},
                       "position_seconds": {"type": "number", "minimum": 0, "maximum": 10000000}},
    },
    "Item": {
        "type": "object", "required": ["id", "library_id", "type", "name", "user_data", "images"],
        "properties": {
            "id": UUID, "library_id": UUID, "parent_id": {"type": ["string", "null"]},
            "type": {"enum": ["movie", "series", "season", "episode", "video"]}, "name": {"type": "string"},
            "sort_name": {"type": "string"}, "original_title": NULLABLE_STR, "year": NULLABLE_INT,
            "genres": {"type": "array", "items": {"type": "string"}}, "rating": NULLABLE_NUM,
            "index_number": NULLABLE_INT, "parent_index_number": NULLABLE_INT, "duration_seconds": NULLABLE_NUM,
            "date_added": {"type": "string"}, "child_count": {"type": "integer"},
            "series_id": NULLABLE_STR, "series_name": NULLABLE_STR, "season_id": NULLABLE_STR,
            "season_name": NULLABLE_STR, "added_count": {"type": "integer"},
            "images": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "kind → version (changes when the image does)"},
            "user_data": ref("UserData"),
        },
    },
    "Stream": {
        "type": "object", "required": ["index", "type"],
        "properties": {"index": {"type": "integer"}, "type": {"type": "string"}, "codec": NULLABLE_STR,
                       "profile": NULLABLE_STR, "level": NULLABLE_INT, "width": NULLABLE_INT,
                       "height": NULLABLE_INT, "frame_rate": NULLABLE_NUM, "bit_depth": NULLABLE_INT,
                       "pixel_format": NULLABLE_STR, "channels": NULLABLE_INT, "channel_layout": NULLABLE_STR,
                       "sample_rate": NULLABLE_INT, "bitrate": NULLABLE_INT, "language": NULLABLE_STR,
                       "title": NULLABLE_STR, "is_default": {"type": "boolean"}, "is_forced": {"type": "boolean"},
                       "is_external": {"type": "boolean"}},
    },
    "ItemDetail": {
        "allOf": [ref("Item"), {
            "type": "object", "required": ["streams"],
            "properties": {"plot": NULLABLE_STR, "container": NULLABLE_STR, "bitrate": NULLABLE_INT,
                           "size": NULLABLE_INT, "date_modified": {"type": "string"},
                           "library_name": {"type": "string"},
                           "path": NULLABLE_STR, "streams": {"type": "array", "items": ref("Stream")}},
        }],
    },
    "LoginRequest": {
        "type": "object", "required": ["username", "password"],
        "properties": {"username": {"type": "string", "minLength": 1, "maxLength": 64},
                       "password": {"type": "string", "maxLength": 1024}},
    },
    "LoginResult": {
        "type": "object", "required": ["access_token", "token_type", "expires_in", "user"],
        "properties": {"access_token": {"type": "string"}, "token_type": {"const": "bearer"},
                       "expires_in": {"type": "integer"}, "user": ref("User")},
    },
    "ActivityEntry": {
        "type": "object", "required": ["id", "at", "type", "severity", "message"],
        "properties": {"id": {"type": "integer"}, "at": {"type": "string"}, "type": {"type": "string"},
                       "severity": {"enum": ["info", "warning", "error"]}, "user_id": NULLABLE_STR,
                       "user_name": NULLABLE_STR, "item_id": NULLABLE_STR, "item_name": NULLABLE_STR,
                       "message": {"type": "string"}, "data": {"type": "object"}},
    },
    "Accepted": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}},
}  # fmt: skip

_ERRORS = {
    "400": "malformed request", "401": "not authenticated", "403": "not allowed",
    "404": "not found or not visible", "409": "conflict", "413": "request body too large",
    "416": "range not satisfiable", "422": "cannot be served this way (e.g. picture subtitles as text)",
    "429": "rate limited", "503": "not ready yet: retry after Retry-After",
}  # fmt: skip


def path_param(name: str, description: str = "") -> dict[str, Any]:
    """A required string path parameter."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def query_param(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """An optional query parameter."""
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def op(summary: str, *, tag: str, ok: str = "200", schema: dict[str, Any] | None = None, body: str | None = None,
       params: list[dict[str, Any]] | None = None, auth: bool = True, errors: tuple[str, ...] = ("400", "404"),
       content_type: str = "application/json", extra: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """One operation. ``schema`` describes the success body, ``body`` names a request schema."""
    success: dict[str, Any] = {"description": "success"}
    if schema is not None:
        success["content"] = {content_type: {"schema": schema}}
    responses: dict[str, Any] = {ok: success}
    codes = set(errors) | ({"401"} if auth else set())
    for code in sorted(codes):
        responses[code] = {"description": _ERRORS[code], "content": {"application/json": {"schema": ref("Error")}}}
    out: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if params:
        out["parameters"] = params
    if body:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    if not auth:
        out["security"] = []
    if extra:
        out.update(extra)
    return out
