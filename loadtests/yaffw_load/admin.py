"""The admin: watches the sessions page and the activity log, and starts a library scan now and then."""

from __future__ import annotations

import random
import time

from locust import between, task

from yaffw_load import options
from yaffw_load.client import YaffwUser


class AdminUser(YaffwUser):
    """One administrator (a fixed count, not weighted: households have one)."""

    group = "admin"
    wait_time = between(10, 30)
    last_scan = 0.0

    def credentials(self) -> tuple[str, str]:
        """The admin's own account."""
        opts = options.get()
        return opts.admin_user, opts.admin_password

    def on_start(self) -> None:
        """Log in; the first scan comes after a full interval (``yaffw up`` has just scanned)."""
        super().on_start()
        self.last_scan = time.monotonic()

    @task(3)
    def sessions(self) -> None:
        """Who is playing what."""
        self.call("GET", "/api/sessions", "/api/sessions")

    @task(1)
    def activity(self) -> None:
        """The activity log's first page."""
        self.call("GET", "/api/activity?limit=50", "/api/activity")

    @task(1)
    def scan(self) -> None:
        """Rescan one library when the interval has passed (202: queued for the scan function)."""
        if time.monotonic() - self.last_scan < options.get().scan_every_s:
            return
        libraries = (self.call("GET", "/api/libraries", "/api/libraries") or {}).get("items", [])
        if libraries:
            lib = random.choice(libraries)
            self.call("POST", f"/api/libraries/{lib['id']}/scan", "/api/libraries/{id}/scan", expect=(202,), json={})
        self.last_scan = time.monotonic()
