"""Browsing: /Items, /Items/{id}, /UserViews, /Items/Latest, /UserItems/Resume (and legacy /Users/{id}/... aliases)."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_browse", url_prefix=PREFIX)
