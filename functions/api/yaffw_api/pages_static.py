"""``GET /static/<name>``: the UI's committed assets (built CSS, vendored htmx, app.js, icons).

The files are read once at import into memory: the set is fixed and small (under 200 KB), the
name in the URL only selects from that set (never a path on disk), and each answer carries an ETag.
A request with ``?v=<hash>`` matching the file's hash (as ``templating.static_url`` writes it) may
be cached for a year; without it, browsers revalidate.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from yaffw.errors import NotFound

from yaffw_api.templating import STATIC, static_digest

bp = Blueprint("pages_static")

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class _Asset:
    body: bytes
    content_type: str
    etag: str
    digest: str


def _load() -> dict[str, _Asset]:
    assets = {}
    for path in sorted(STATIC.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        body = path.read_bytes()
        ctype = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        assets[path.name] = _Asset(body, ctype, etag, static_digest(path.name))
    return assets


_ASSETS = _load()


@bp.route("/static/<name:str>", methods=["GET", "HEAD"])
async def static(request: Request, name: str) -> HTTPResponse:
    """One asset, with ETag and cache headers. :raises NotFound: for a name not in the set."""
    asset = _ASSETS.get(name)
    if asset is None:
        raise NotFound("no such file")
    versioned = request.args.get("v") == asset.digest
    headers = {
        "ETag": asset.etag,
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "public, max-age=0, must-revalidate",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return HTTPResponse(status=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.body
    headers["Content-Length"] = str(len(asset.body))
    return raw(body, content_type=asset.content_type, headers=headers)
