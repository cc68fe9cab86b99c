"""Display preferences: /DisplayPreferences/{id}, stored per user and client."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_display_prefs", url_prefix=PREFIX)
