"""The /socket WebSocket: KeepAlive and the UserDataChanged / LibraryChanged pushes."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_socket", url_prefix=PREFIX)
