"""Features yaffw does not have (Live TV, SyncPlay, plugins, music...) answered as when empty or off."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_unsupported", url_prefix=PREFIX)
