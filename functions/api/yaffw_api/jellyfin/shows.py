"""Shows: /Shows/NextUp, /Shows/{id}/Seasons, /Shows/{id}/Episodes."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_shows", url_prefix=PREFIX)
