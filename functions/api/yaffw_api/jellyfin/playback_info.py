"""GET|POST /Items/{id}/PlaybackInfo: the client's DeviceProfile into yaffw's playback decision."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_playback_info", url_prefix=PREFIX)
