"""Jellyfin HLS: /videos/{id}/master.m3u8, main.m3u8, hls1/{playlist}/{n}.ts, ActiveEncodings."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_hls", url_prefix=PREFIX)
