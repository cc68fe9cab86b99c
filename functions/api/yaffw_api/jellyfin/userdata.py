"""Marks: /UserPlayedItems/{id}, /UserFavoriteItems/{id}, /UserItems/{id}/UserData (and legacy aliases)."""

from __future__ import annotations

from sanic import Blueprint

from yaffw_api.jellyfin.routing import PREFIX

bp = Blueprint("jf_userdata", url_prefix=PREFIX)
