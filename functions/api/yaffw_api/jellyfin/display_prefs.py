"""Display preferences: ``GET|POST /DisplayPreferences/{id}?userId=&client=``, stored per user, client
and preferences id in PostgreSQL (``display_preferences``, a JSONB ``DisplayPreferencesDto``).

Jellyfin Web keeps its home sections, sort orders and skip lengths here. A GET with nothing stored
answers Jellyfin's defaults. Jellyfin keys preferences by a GUID: the id itself when it is one,
otherwise the MD5 GUID of the name (``usersettings``), computed as Jellyfin does; that GUID is the
answer's ``Id``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty
from yaffw.errors import BadInput, NotFound

from yaffw_api.context import deps
from yaffw_api.jellyfin import jfauth
from yaffw_api.jellyfin.routing import PREFIX
from yaffw_api.jellyfin.users import check_user_param
from yaffw_api.jellyfin.wire import arg, parse_id, reply
from yaffw_api.params import json_object

bp = Blueprint("jf_display_prefs", url_prefix=PREFIX)

MAX_BODY = 64 * 1024
MAX_TEXT = 256
MAX_CUSTOM = 256  # entries in CustomPrefs
MAX_CUSTOM_VALUE = 8192
_TEXT = ("ViewType", "SortBy", "IndexBy")
_BOOL = ("RememberIndexing", "ShowBackdrop", "RememberSorting", "ShowSidebar")
_INT = ("PrimaryImageHeight", "PrimaryImageWidth")
_ENUMS = {"ScrollDirection": ("Horizontal", "Vertical"), "SortOrder": ("Ascending", "Descending")}


def prefs_guid(prefs_id: str) -> str:
    """Jellyfin's GUID for a preferences id: the id if it is a GUID, else ``GetMD5`` of it (UTF-16 LE,
    read as .NET reads a GUID's bytes)."""
    try:
        return str(uuid.UUID(prefs_id))
    except ValueError:
        return str(uuid.UUID(bytes_le=hashlib.md5(prefs_id.encode("utf-16-le")).digest()))


def defaults(guid: str, client: str) -> dict[str, Any]:
    """What Jellyfin answers for preferences never saved."""
    return {
        "Id": guid, "SortBy": "SortName", "RememberIndexing": False, "PrimaryImageHeight": 250,
        "PrimaryImageWidth": 250, "ScrollDirection": "Horizontal", "ShowBackdrop": True, "RememberSorting": False,
        "SortOrder": "Ascending", "ShowSidebar": False, "Client": client,
        "CustomPrefs": {"chromecastVersion": "stable", "skipForwardLength": "30000", "skipBackLength": "10000",
                        "enableNextVideoInfoOverlay": "True"},
    }  # fmt: skip


def validate_body(body: dict[str, Any]) -> dict[str, Any]:
    """The documented members of a posted ``DisplayPreferencesDto``, checked and normalised.

    Unknown members are dropped, as Jellyfin ignores them; ``null`` means "not given".
    :raises BadInput: a member of the wrong type, an unknown enum value, or oversized text.
    """
    out: dict[str, Any] = {}
    for name, value in body.items():
        if value is None:
            continue
        if name in _TEXT:
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise BadInput(f"{name} must be a string of at most {MAX_TEXT} characters")
        elif name in _BOOL:
            if not isinstance(value, bool):
                raise BadInput(f"{name} must be true or false")
        elif name in _INT:
            if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value <= 2**31 - 1:
                raise BadInput(f"{name} must be a 32-bit integer")
        elif name in _ENUMS:
            allowed = {v.lower(): v for v in _ENUMS[name]}
            if not isinstance(value, str) or value.lower() not in allowed:
                raise BadInput(f"{name} must be one of {', '.join(_ENUMS[name])}")
            value = allowed[value.lower()]
        elif name == "CustomPrefs":
            value = _custom(value)
        else:
            continue  # Id and Client come from the URL; anything else is not Jellyfin's
        out[name] = value
    return out


def _custom(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict) or len(value) > MAX_CUSTOM:
        raise BadInput(f"CustomPrefs must be an object of at most {MAX_CUSTOM} entries")
    for key, item in value.items():
        if len(key) > MAX_TEXT or (item is not None and (not isinstance(item, str) or len(item) > MAX_CUSTOM_VALUE)):
            raise BadInput("CustomPrefs values must be strings of at most 8192 characters")
    return value


async def _target(request: Request) -> tuple[str, str, str]:
    """(user id, client, preferences GUID) of the request. :raises BadInput: no ``client``."""
    user = await jfauth.require_user(request)
    given = arg(request, "userId")
    check_user_param(user, given)
    target = parse_id(given, "user", bad_input=True) if given else user.id
    if target != user.id and not await deps(request).pool.fetchval("SELECT 1 FROM users WHERE id = $1::uuid", target):
        raise NotFound("user not found")
    client = (arg(request, "client") or "").strip()
    if not client or len(client) > MAX_TEXT or "\x00" in client:
        raise BadInput(f"client is required (at most {MAX_TEXT} characters)")
    return target, client, prefs_guid(request.match_info["prefs_id"])


@bp.get("/displaypreferences/<prefs_id:str>")
async def get_prefs(request: Request, prefs_id: str) -> HTTPResponse:
    """The stored preferences over Jellyfin's defaults."""
    user_id, client, guid = await _target(request)
    stored = await deps(request).pool.fetchval(
        "SELECT prefs FROM display_preferences WHERE user_id = $1::uuid AND client = $2 AND prefs_id = $3",
        user_id, client, guid,
    )  # fmt: skip
    out = defaults(guid, client)
    if stored is not None:
        saved = json.loads(stored)
        custom = {**out["CustomPrefs"], **saved.pop("CustomPrefs", {})}
        out.update(saved, CustomPrefs=custom)
    return reply(out)


@bp.post("/displaypreferences/<prefs_id:str>")
async def post_prefs(request: Request, prefs_id: str) -> HTTPResponse:
    """Replace the preferences (204)."""
    if len(request.body or b"") > MAX_BODY:
        raise BadInput("body is too large")
    user_id, client, guid = await _target(request)
    text = json.dumps(validate_body(json_object(request)))
    if "\\u0000" in text:  # PostgreSQL's JSONB cannot hold NUL characters
        raise BadInput("text must not contain NUL characters")
    await deps(request).pool.execute(
        """
        INSERT INTO display_preferences (user_id, client, prefs_id, prefs) VALUES ($1::uuid, $2, $3, $4::jsonb)
        ON CONFLICT (user_id, client, prefs_id) DO UPDATE SET prefs = EXCLUDED.prefs, updated_at = now()
        """,
        user_id, client, guid, text,
    )  # fmt: skip
    return empty(status=204)
