"""Images: GET|HEAD /Items/{id}/Images/{type}[/{index}], resized copies cached in the image store."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_images", url_prefix=PREFIX)
