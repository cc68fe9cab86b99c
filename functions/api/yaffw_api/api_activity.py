"""``GET /api/activity?offset&limit`` (admin): the activity log, newest first."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from yaffw_api.apidoc import op, page_of, query_param
from yaffw_api.auth import require_admin
from yaffw_api.context import deps
from yaffw_api.queries import activity

bp = Blueprint("api_activity")


@bp.get("/api/activity")
async def list_activity(request: Request) -> HTTPResponse:
    """A page of the log: ``{items, total}``."""
    await require_admin(request)
    offset, limit = activity.page_args(request.args.get("offset"), request.args.get("limit"))
    rows, total = await activity.list_entries(deps(request).pool, offset, limit)
    return json({"items": rows, "total": total})


OPENAPI = {
    "/api/activity": {"get": op("The activity log (admin)", tag="activity", schema=page_of("ActivityEntry"),
                                errors=("400", "403"),
                                params=[query_param("offset", {"type": "integer", "minimum": 0, "maximum": 1000000}),
                                        query_param("limit", {"type": "integer", "minimum": 1,
                                                              "maximum": activity.MAX_LIMIT})])},
}  # fmt: skip
