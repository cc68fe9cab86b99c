"""Jellyfin's routing rules on top of Sanic's (DESIGN §10): case-insensitive paths, ``/emby`` and
``/mediabrowser`` prefixes stripped, all at the server root beside ``/api`` and the web UI.

Sanic's router is case-sensitive and matches before any middleware runs, so the rewrite happens
where the request is built: :class:`JellyfinAwareRequest` maps a Jellyfin path such as
``/emby/Users/AuthenticateByName`` to the internal, lower-case ``/_jf/users/authenticatebyname``,
where the Jellyfin blueprints are registered. Query strings are left alone (their values keep
their case). Paths of yaffw's own API and pages never change, except one shared name: the web
UI's ``/items/<id>`` page, which a browser navigates to (``Accept: text/html``) while Jellyfin
clients call ``/Items/{id}`` for JSON.
"""

from __future__ import annotations

from typing import Any

from sanic import Request

PREFIX = "/_jf"

# First path segments (lower case) that belong to Jellyfin's API. Anything else is yaffw's.
ROOTS = frozenset({
    "system", "users", "userviews", "useritems", "userplayeditems", "userfavoriteitems", "items",
    "shows", "videos", "sessions", "displaypreferences", "quickconnect", "branding", "socket",
    "playback", "localization", "livetv", "syncplay", "plugins", "packages", "studios", "genres",
    "persons", "artists", "musicgenres", "startup", "library", "movies", "trailers", "scheduledtasks",
    "notifications", "devices", "environment", "auth", "collections", "playlists", "channels",
    "mediasegments", "trickplay", "clientlog", "getutctime", "images", "mediainfo", "audio",
    "years", "search", "web", "session", "userimage", "instantmix", "repositories", "backup",
    "lyrics", "mediastructure", "filterinfo", "apikeys",
})  # fmt: skip
_STRIPPED = ("/emby", "/mediabrowser")
# Jellyfin-looking roots that are also web UI pages: a browser navigation keeps the UI.
_UI_SHARED = frozenset({"items", "search"})
_JELLYFIN_AUTH = ("x-emby-authorization", "x-emby-token", "x-mediabrowser-token")


def _is_browser_page(root: str, path: str, headers: Any) -> bool:
    """Whether a path both surfaces know is the web UI's: a page navigation or an HTMX request."""
    if root not in _UI_SHARED or path.split("/", 2)[1] != root:  # Jellyfin clients write "Items"
        return False
    if root == "search" and path.rstrip("/") == "/search":
        return True  # Jellyfin has only /Search/Hints; the UI's search page and its HTMX results
    if any(h in headers for h in _JELLYFIN_AUTH):
        return False
    if headers.get("authorization", "").lower().startswith(("mediabrowser", "emby")):
        return False
    return "text/html" in headers.get("accept", "") or "hx-request" in headers


def rewrite(path: str, headers: Any) -> str | None:
    """The internal path for a Jellyfin request, or ``None`` when ``path`` is yaffw's own."""
    lower = path.lower()
    for prefix in _STRIPPED:
        if lower == prefix or lower.startswith(prefix + "/"):
            path, lower = path[len(prefix) :] or "/", lower[len(prefix) :] or "/"
            break
    root = lower.split("/", 2)[1] if lower.startswith("/") and len(lower) > 1 else ""
    if root not in ROOTS or _is_browser_page(root, path, headers):
        return None
    return PREFIX + lower


class JellyfinAwareRequest(Request):
    """A Sanic request whose path is rewritten for Jellyfin's routing rules (see module doc)."""

    def __init__(self, url_bytes: bytes, headers: Any, *args: Any, **kwargs: Any) -> None:
        path, sep, query = url_bytes.partition(b"?")
        try:
            internal = rewrite(path.decode("ascii"), headers)
        except UnicodeDecodeError:
            internal = None  # not a Jellyfin path: let Sanic answer it as it would
        if internal is not None:
            url_bytes = internal.encode("ascii") + sep + query
        super().__init__(url_bytes, headers, *args, **kwargs)
