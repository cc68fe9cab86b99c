"""What every simulated person shares: logging in once, JSON calls with grouped names, finding media.

Requests are named ``[group] METHOD-less route`` (``[browse] /api/items/{id}``) so Locust's CSV
groups them by what kind of user made them and by route, not by each id.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from locust import FastHttpUser
from locust.exception import StopUser

from yaffw_load import options

ACCOUNT_PREFIX = "loadtest-"
_next_account = itertools.count()


def account_name(n: int) -> str:
    """The name of load-test account ``n``."""
    return f"{ACCOUNT_PREFIX}{n:03d}"


class YaffwUser(FastHttpUser):
    """A signed-in client: logs in once in ``on_start`` and sends its bearer token on every call."""

    abstract = True
    group = "user"
    # Viewers hold a connection open for a long time; connection_timeout is for connecting only.
    network_timeout = 120.0
    connection_timeout = 30.0

    token: str = ""
    user_id: str = ""

    def credentials(self) -> tuple[str, str]:
        """(name, password) this user logs in with: the next load-test account, round robin."""
        opts = options.get()
        return account_name(next(_next_account) % max(1, opts.accounts)), opts.account_password

    def on_start(self) -> None:
        """Log in once, as a real client does; the token is reused until the test ends."""
        name, password = self.credentials()
        with self.client.post("/api/auth/login", json={"username": name, "password": password},
                              name=f"[{self.group}] /api/auth/login", catch_response=True) as r:  # fmt: skip
            if r.status_code != 200:
                r.failure(f"login as {name}: {r.status_code} {r.text[:200]}")
                raise StopUser()
            body = r.json()
            self.token, self.user_id = body["access_token"], body["user"]["id"]

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, name: str, *, expect: tuple[int, ...] = (200,), json: Any = None,
             headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        """One API call named ``[group] name``; returns the parsed JSON (or None) and marks anything
        but ``expect`` as a failure."""
        with self.client.request(method, path, name=f"[{self.group}] {name}", json=json,
                                 headers={**self.auth, **(headers or {})}, catch_response=True) as r:  # fmt: skip
            if r.status_code not in expect:
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return None
            if r.status_code == 204 or not r.content:
                return None
            ctype = r.headers.get("content-type", "")
            return r.json() if ctype.startswith("application/json") else r.content

    def playable_items(self, limit: int = 50) -> list[dict[str, Any]]:
        """A page of films and episodes, as a "what shall I watch" screen shows them."""
        extra = options.get().play_filter
        query = f"type=movie,episode,video&sort=date_added&limit={limit}" + (f"&{extra}" if extra else "")
        page = self.call("GET", f"/api/items?{query}", "/api/items?type=playable")
        return [i for i in (page or {}).get("items", []) if (i.get("duration_seconds") or 0) > 1]

    def pick_playable(self) -> dict[str, Any] | None:
        """An item to watch, with its detail (streams, size, bitrate); None when the library has none.

        Files whose size is far below what their duration and bitrate promise are skipped: they are
        truncated, and a real viewer would leave them after the first error.
        """
        candidates = self.playable_items()
        random.shuffle(candidates)
        for summary in candidates[:5]:
            detail = self.call("GET", f"/api/items/{summary['id']}", "/api/items/{id}")
            if detail and plausible_file(detail):
                return detail
        return None


def video_stream(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The item's first video stream that is not cover art."""
    for s in detail.get("streams") or []:
        if s.get("type") == "video" and s.get("codec") not in ("mjpeg", "png") and s.get("height"):
            return s
    return None


def bitrate_of(detail: dict[str, Any]) -> float:
    """Overall bits per second: the probed bitrate, else size over duration."""
    duration = detail.get("duration_seconds") or 0
    if detail.get("bitrate"):
        return float(detail["bitrate"])
    return 8.0 * (detail.get("size") or 0) / duration if duration else 0.0


def plausible_file(detail: dict[str, Any]) -> bool:
    """A complete-looking file with video: its size is at least half what its bitrate promises."""
    size, duration = detail.get("size") or 0, detail.get("duration_seconds") or 0
    if not size or not duration or video_stream(detail) is None:
        return False
    promised = (detail.get("bitrate") or 0) * duration / 8
    return not promised or size >= promised / 2
