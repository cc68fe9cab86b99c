"""Playback reports: /Sessions/Playing[/Progress|/Ping|/Stopped]."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_reporting", url_prefix=PREFIX)
