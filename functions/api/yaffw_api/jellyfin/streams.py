"""Direct streams: GET|HEAD /Videos/{id}/stream[.{container}]."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_streams", url_prefix=PREFIX)
