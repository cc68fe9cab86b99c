"""People browsing the library: home screen, library pages, search, item pages and their images."""

from __future__ import annotations

import random
import time
from typing import Any
from urllib.parse import quote

from locust import between, task

from yaffw_load import options
from yaffw_load.client import YaffwUser


def _think(user: Any) -> float:
    opts = options.get()
    return between(opts.think_min, opts.think_max)(user)


class BrowserUser(YaffwUser):
    """Someone in the web UI or an app: looks around, opens pages, searches, marks favourites."""

    group = "browse"
    wait_time = _think

    def on_start(self) -> None:
        """Log in, then load what an app loads once: who am I, which libraries."""
        super().on_start()
        self.images: dict[str, tuple[str | None, float]] = {}  # url -> (etag, fetched at)
        self.seen: list[dict[str, Any]] = []  # items met so far: what pages link to
        self.call("GET", "/api/users/me", "/api/users/me")
        self.libraries = (self.call("GET", "/api/libraries", "/api/libraries") or {}).get("items", [])

    def _remember(self, items: list[dict[str, Any]]) -> None:
        self.seen = (items + self.seen)[:300]

    def _image(self, item: dict[str, Any], kind: str = "primary") -> None:
        """Load an image as a browser does: from its cache while fresh, then revalidated by ETag."""
        if kind not in (item.get("images") or {}):
            return
        url = f"/api/items/{item['id']}/images/{kind}"
        etag, fetched = self.images.get(url, (None, 0.0))
        if time.monotonic() - fetched < options.get().image_cache_s:
            return
        with self.client.get(url, name=f"[browse] /api/items/{{id}}/images/{kind}", allow_redirects=False,
                             headers={**self.auth, **({"If-None-Match": etag} if etag else {})},
                             catch_response=True) as r:  # fmt: skip
            # 302: the image lives in S3 and the browser would fetch it there, not from the api.
            if r.status_code not in (200, 302, 304):
                r.failure(f"{r.status_code}: {(r.text or '')[:200]}")
                return
        self.images[url] = (r.headers.get("etag") or etag, time.monotonic())

    def _images(self, items: list[dict[str, Any]], count: int = 8) -> None:
        for item in items[:count]:  # above the fold; the rest load as the user scrolls
            self._image(item)

    @task(3)
    def home(self) -> None:
        """The home screen: continue watching, recently added, their posters."""
        resume = self.call("GET", "/api/resume?limit=12", "/api/resume") or {}
        latest = self.call("GET", "/api/latest?limit=16", "/api/latest") or {}
        items = resume.get("items", []) + latest.get("items", [])
        self._remember(items)
        self._images(items)

    @task(4)
    def library(self) -> None:
        """A library's grid, sorted by name, scrolled a few pages down with pauses between pages."""
        if not self.libraries:
            return
        lib = random.choice(self.libraries)
        size = options.get().page_size
        sort = random.choice(("name", "name", "date_added", "year"))
        for page in range(random.choice((1, 1, 2, 3))):
            if page:
                time.sleep(random.uniform(1.0, 3.0))  # reading the page before scrolling on
            body = self.call("GET", f"/api/items?library_id={lib['id']}&sort={sort}&offset={page * size}&limit={size}",
                             "/api/items?library_id (page)")  # fmt: skip
            items = (body or {}).get("items", [])
            self._remember(items)
            self._images(items, count=size)
            if len(items) < size:
                break

    @task(2)
    def search(self) -> None:
        """Typing a search: a query per word prefix, as search-as-you-type does (debounced)."""
        names = [i["name"] for i in self.seen if i.get("name")] or ["test"]
        word = random.choice(random.choice(names).split() or ["test"])
        for n in sorted({min(len(word), 3), len(word)}):
            body = self.call("GET", f"/api/items?q={quote(word[:n])}&limit=20", "/api/items?q (search)")
            self._remember((body or {}).get("items", []))
            time.sleep(random.uniform(0.3, 0.8))

    @task(4)
    def item(self) -> None:
        """An item page: the item, its backdrop and poster; a series or season lists its children."""
        if not self.seen:
            self.home()
            return
        item = random.choice(self.seen)
        detail = self.call("GET", f"/api/items/{item['id']}", "/api/items/{id}")
        if not detail:
            return
        self._image(detail, "backdrop")
        self._image(detail)
        if detail.get("type") in ("series", "season"):
            body = self.call("GET", f"/api/items?parent_id={item['id']}&limit=100", "/api/items?parent_id (children)")
            children = (body or {}).get("items", [])
            self._remember(children)
            self._images(children)

    @task(1)
    def favourite(self) -> None:
        """Toggle a favourite (a write: user data)."""
        if not self.seen:
            return
        item = random.choice(self.seen)
        favourite = not (item.get("user_data") or {}).get("favorite", False)
        state = self.call("PUT", f"/api/items/{item['id']}/userdata", "/api/items/{id}/userdata",
                          json={"favorite": favourite})  # fmt: skip
        if state is not None:
            item["user_data"] = state
