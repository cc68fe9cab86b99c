"""Admin page for libraries: ``/admin/libraries`` lists them with a "Scan now" button and a live
progress bar, and a form adds one.

"Scan now" is an htmx POST to the JSON route ``POST /api/libraries/{id}/scan`` (it emits the scan
request event); the bar is moved by ``app.js`` from the SSE stream's
``io.yaffw.library.scan.progress`` / ``.completed`` notifications.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from yaffw.errors import BadInput, Conflict

from yaffw_api.context import deps
from yaffw_api.pages_auth import page, user_of
from yaffw_api.queries import libraries
from yaffw_api.templating import render

bp = Blueprint("pages_admin_libraries")

NOTICES = {"created": "Library added. Press “Scan now” to fill it."}


async def _page(request: Request, *, status: int = 200, error: str | None = None,
                draft: dict[str, str] | None = None) -> HTTPResponse:  # fmt: skip
    d = deps(request)
    return render(
        request,
        "admin/libraries.html",
        status=status,
        libraries=await libraries.list_visible(d.pool, user_of(request)),
        kinds=libraries.KINDS,
        media_roots=[str(p) for p in d.settings.media_roots],
        error=error,
        draft=draft or {"name": "", "kind": "movies", "paths": ""},
        notice=NOTICES.get(request.args.get("notice", "")),
    )


@bp.get("/admin/libraries")
@page(admin=True)
async def list_libraries(request: Request) -> HTTPResponse:
    """Every library with its scan controls, and the form to add one."""
    return await _page(request)


@bp.post("/admin/libraries")
@page(admin=True)
async def create(request: Request) -> HTTPResponse:
    """Add a library from the form (paths one per line)."""
    d, form = deps(request), request.form or {}
    draft = {"name": form.get("name") or "", "kind": form.get("kind") or "", "paths": form.get("paths") or ""}
    paths = [line.strip() for line in draft["paths"].splitlines() if line.strip()]
    try:
        await libraries.create(d.pool, draft["name"], draft["kind"], paths, d.settings.media_roots)
    except (BadInput, Conflict) as exc:
        return await _page(request, status=exc.status, error=exc.message, draft=draft)
    return redirect("/admin/libraries?notice=created", status=303)
