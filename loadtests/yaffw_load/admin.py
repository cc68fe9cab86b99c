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
    last_scan = 0.0

    def wait_time(self) -> float:
        """Half to one and a half times ``LOADTEST_ADMIN_THINK_S``."""
        think = options.get().admin_think_s
        return between(think / 2, think * 1.5)(self)

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
        """Who is playing what (and a scan when one is due)."""
        self.call("GET", "/api/sessions", "/api/sessions")
        self.scan_if_due()

    @task(1)
    def activity(self) -> None:
        """The activity log's first page (and a scan when one is due)."""
        self.call("GET", "/api/activity?limit=50", "/api/activity")
        self.scan_if_due()

    def scan_if_due(self) -> None:
        """Rescan one library when the interval has passed (202: queued for the scan function)."""
        if time.monotonic() - self.last_scan < options.get().scan_every_s:
            return
        libraries = (self.call("GET", "/api/libraries", "/api/libraries") or {}).get("items", [])
        if libraries:
            lib = random.choice(libraries)
            self.call("POST", f"/api/libraries/{lib['id']}/scan", "/api/libraries/{id}/scan", expect=(202,), json={})
        self.last_scan = time.monotonic()
