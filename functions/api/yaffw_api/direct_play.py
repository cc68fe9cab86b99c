"""``GET|HEAD /api/items/{id}/file``: direct play of the item's file (DESIGN §5.2).

The path comes from the database row only; :mod:`yaffw.media.safe_path` opens it only when its real
path lies inside one of the item's library paths and it is a regular file (404 ``file_refused`` else).
The caller is authorised by Bearer header, cookie, or a short-lived ``?token=`` scoped to
``item:<id>`` (what the playback endpoint hands out, since a ``<video src>`` cannot send headers).
Ranges, conditionals and ETags: :mod:`yaffw_api.ranges`; the body: :mod:`yaffw_api.sendfile`.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from yaffw.errors import NotFound
from yaffw.media import safe_path

from yaffw_api import ranges
from yaffw_api.access import visible_item
from yaffw_api.apidoc import op, path_param, query_param
from yaffw_api.auth import User, require_user
from yaffw_api.context import deps
from yaffw_api.errors import error_response
from yaffw_api.sendfile import send_file_body

bp = Blueprint("direct_play")

_COLUMNS = "i.path, (SELECT l.paths FROM libraries l WHERE l.id = i.library_id) AS roots"

# mimetypes knows few video containers, and those it knows vary between systems.
_TYPES = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mkv": "video/x-matroska", ".webm": "video/webm",
    ".mov": "video/quicktime", ".avi": "video/x-msvideo", ".ts": "video/mp2t", ".m2ts": "video/mp2t",
    ".mpg": "video/mpeg", ".mpeg": "video/mpeg", ".wmv": "video/x-ms-wmv", ".ogv": "video/ogg",
    ".flv": "video/x-flv", ".3gp": "video/3gpp", ".mka": "audio/x-matroska", ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg", ".opus": "audio/ogg",
}  # fmt: skip


def content_type(path: str) -> str:
    """The MIME type served for a media file."""
    ext = os.path.splitext(path)[1].lower()
    return _TYPES.get(ext) or mimetypes.guess_type(path)[0] or "application/octet-stream"


@bp.route("/api/items/<item_id>/file", methods=["GET", "HEAD"])
async def item_file(request: Request, item_id: str) -> HTTPResponse | None:
    """The item's file with Range/If-Range/If-None-Match/If-Modified-Since support."""
    user = await require_user(request, scope=f"item:{item_id}")
    return await serve_item_file(request, user, item_id)


async def serve_item_file(request: Request, user: User, item_id: str) -> HTTPResponse | None:
    """Send the file of ``item_id`` (which ``user`` must see) for a GET or HEAD ``request``: Range,
    If-Range, conditionals, ETag, zero-copy body. Shared by ``/api`` and the Jellyfin surface.

    :raises NotFound: invisible item, no file, file gone. :raises Unavailable: unreadable file.
    :raises RefusedFile: (404 ``file_refused``) the file leads outside the library's folders or is not a regular file.
    """
    d = deps(request)
    item = await visible_item(d.pool, user, item_id, _COLUMNS)
    path = item["path"]
    if not path:
        raise NotFound("item has no file", code="no_file")
    # Real path under a library root, a regular file, opened without blocking: yaffw.media.safe_path.
    # In a thread: a stat or open on a slow or hung share must not stall every request of this replica.
    fd, st = await asyncio.to_thread(safe_path.open_media, path, list(item["roots"] or []))
    try:
        headers = {k.lower(): v for k, v in request.headers.items()}
        plan = ranges.plan(request.method, headers, st.st_size, st.st_mtime)
        out = dict(plan.headers or {})
        out["Cache-Control"] = "private, max-age=0, must-revalidate"
        if plan.status == 304:
            return HTTPResponse(status=304, headers=out, content_type=None)
        if plan.status == 416:
            message = f"range not satisfiable for {st.st_size} bytes"
            return error_response(request, 416, "range_not_satisfiable", message, out)
        out["Content-Length"] = str(plan.length)
        out["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(os.path.basename(path))}"
        response = await request.respond(status=plan.status, headers=out, content_type=content_type(path))
        if request.method == "HEAD":
            await response.send(b"", end_stream=True)
            return None
        await send_file_body(request, response, fd, plan.offset, plan.length)
        return None
    finally:
        os.close(fd)


_FILE_OP = op(
    "The media file (direct play): Range, If-Range, ETag; multiple ranges get the whole file",
    tag="playback",
    schema={"type": "string", "format": "binary"},
    content_type="application/octet-stream",
    params=[path_param("item_id"), query_param("token", {"type": "string"}, "short-lived token scoped to this item")],
    errors=("404", "416"),
    extra={"x-partial-content": "206 with Content-Range for a single range"},
)
OPENAPI = {"/api/items/{item_id}/file": {"get": _FILE_OP, "head": _FILE_OP}}  # fmt: skip
