"""Admin pages in headless Chromium: the live scan progress bar (fed by the SSE stream), users
(create, edit, disable, delete, library access), libraries (create) and the activity log; and
notification toasts on an ordinary page. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis_async
from playwright.async_api import expect
from yaffw import events, notify, sample
from yaffw.keys import Keys
from yaffw.settings import Settings

from tests.browser import Catalog, OpenPage, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

PROGRESS = events.SCAN_PROGRESS
COMPLETED = events.SCAN_COMPLETED


async def sse_ready(page: Any) -> None:
    """Wait until the page's notification stream is subscribed (messages sent now will arrive)."""
    await expect(page.locator("body")).to_have_attribute("data-sse", "ready")


def bar(page: Any, library_id: str) -> Any:
    return page.locator(f"[data-scan-library='{library_id}'] [role=progressbar]")


async def test_scan_now_and_live_progress(admin_page: Any, catalog: Catalog, redis: redis_async.Redis,
                                          keys: Keys, artifacts: Path) -> None:  # fmt: skip
    page = admin_page
    lib = catalog.movies_library
    await page.goto("/admin/libraries")
    await sse_ready(page)
    box = page.locator(f"[data-scan-library='{lib}']")
    await expect(box).to_be_hidden()
    before = await redis.xlen(keys.events)
    await page.click(f"[data-scan-button='{lib}']")
    await expect(box).to_be_visible()
    await expect(box.locator("[data-scan-text]")).to_contain_text("Scan requested")
    # The button went through the JSON API, which put the request on the event bus.
    entries = await redis.xrange(keys.events, count=before + 10)
    requested = [json.loads(e[1][events.STREAM_FIELD]) for e in entries[before:]]
    assert any(e["type"] == events.SCAN_REQUESTED and e["data"]["library_id"] == lib for e in requested)

    # Progress as the scan function reports it, on the channel every api replica fans out.
    for done, expected in ((3, "25"), (6, "50"), (9, "75")):
        await notify.publish(redis, keys.notify, PROGRESS, {"library_id": lib, "done": done, "total": 12,
                                                            "phase": "probing"}, library_id=lib)  # fmt: skip
        await expect(bar(page, lib)).to_have_attribute("aria-valuenow", expected)
        await expect(box.locator("[data-scan-bar]")).to_have_attribute("style", f"width: {expected}%;")
        await expect(box.locator("[data-scan-text]")).to_contain_text(f"{done} of 12")
        if done == 6:
            await expect(page.locator("#toasts")).to_contain_text("Scanning Movies")
            await screenshot(page, artifacts, "admin-libraries-scanning")
    await notify.publish(redis, keys.notify, COMPLETED, {"library_id": lib, "added": 12, "updated": 0, "removed": 1,
                                                         "failed": 0, "seconds": 2.5}, library_id=lib)  # fmt: skip
    await expect(bar(page, lib)).to_have_attribute("aria-valuenow", "100")
    await expect(box.locator("[data-scan-text]")).to_have_text("Scan complete")
    await expect(page.locator("#toasts")).to_contain_text("Finished scanning Movies")
    await expect(page.locator("#toasts")).to_contain_text("12 added, 1 removed")
    # Another library's bar did not move.
    await expect(page.locator(f"[data-scan-library='{catalog.shows_library}']")).to_be_hidden()
    assert not page.problems, page.problems


async def test_toasts_follow_library_access(user_page: Any, catalog: Catalog, redis: redis_async.Redis,
                                            keys: Keys) -> None:  # fmt: skip
    page = user_page  # ben: Movies and Shows, not Kids
    await sse_ready(page)
    await notify.publish(redis, keys.notify, events.ITEM_ADDED, {"name": "Forbidden Fruit"},
                         library_id=catalog.kids_library)  # fmt: skip
    await notify.publish(redis, keys.notify, events.ITEM_ADDED, {"name": "Fresh Arrival"},
                         library_id=catalog.movies_library)  # fmt: skip
    toasts = page.locator("#toasts")
    await expect(toasts).to_contain_text("Fresh Arrival")
    assert "Forbidden Fruit" not in await toasts.inner_text()
    # A toast can be dismissed.
    await toasts.locator("button[aria-label=Dismiss]").first.click()
    await expect(toasts).not_to_contain_text("Fresh Arrival")


async def test_admin_users(admin_page: Any, open_page: OpenPage, catalog: Catalog, artifacts: Path) -> None:
    page = admin_page
    await page.goto("/admin/users")
    await expect(page.locator("#users-table tr[data-user]")).to_have_count(2)
    # A clash is explained on the form, keeping what was typed.
    await page.fill("#new-name", "BEN")
    await page.fill("#new-password", "whatever")
    await page.click("#new-user-form button")
    await expect(page.locator("#form-error")).to_contain_text("exists")
    await expect(page.locator("#new-name")).to_have_value("BEN")
    # Create carol with the Shows library only.
    await page.fill("#new-name", "carol")
    await page.fill("#new-password", "carol-password-1")
    await page.check(f"#new-user-form input[value='{catalog.shows_library}']")
    await page.click("#new-user-form button")
    await expect(page.locator("#notice")).to_have_text("User created.")
    row = page.locator("#users-table tr[data-user=carol]")
    await expect(row).to_contain_text("Shows")
    await expect(row).not_to_contain_text("Movies")
    await screenshot(page, artifacts, "admin-users")

    # Carol signs in and sees only Shows.
    carol = await open_page("carol", password="carol-password-1")
    await expect(carol.locator("#libraries a")).to_have_count(1)
    await expect(carol.locator("#libraries")).to_contain_text("Shows")

    # Give her Movies too; she sees it on her next page.
    await row.locator("a:has-text('Edit')").click()
    await expect(page.locator("#edit-title")).to_have_text("Edit carol")
    await page.check(f"#edit-user-form input[value='{catalog.movies_library}']")
    # Her own playback limits (issue 14): empty means the server's default.
    await expect(page.locator("#edit-max-sessions")).to_have_value("")
    await page.fill("#edit-max-transcodes", "1")
    await page.click("#edit-user-form button:has-text('Save')")
    await expect(page.locator("#notice")).to_have_text("Changes saved.")
    await carol.reload()
    await expect(carol.locator("#libraries a")).to_have_count(2)
    await page.locator("#users-table tr[data-user=carol] a:has-text('Edit')").click()
    await expect(page.locator("#edit-max-transcodes")).to_have_value("1")
    await expect(page.locator("#edit-max-sessions")).to_have_value("")
    await page.fill("#edit-max-sessions", "99999")  # above the most allowed: explained, nothing saved
    await page.click("#edit-user-form button:has-text('Save')")
    await expect(page.locator("#form-error")).to_contain_text("max_sessions")
    await page.goto("/admin/users")

    # Disabling signs her out at once: her next page is the login form.
    await page.locator("#users-table tr[data-user=carol] a:has-text('Edit')").click()
    await page.check("#edit-user-form input[name=is_disabled]")
    await page.click("#edit-user-form button:has-text('Save')")
    await expect(page.locator("#users-table tr[data-user=carol]")).to_contain_text("Disabled")
    await carol.reload()
    await expect(carol.locator("#username")).to_be_visible()

    # Delete, after confirming.
    await page.locator("#users-table tr[data-user=carol] a:has-text('Edit')").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#delete-user")
    await expect(page.locator("#notice")).to_have_text("User deleted.")
    await expect(page.locator("#users-table tr[data-user]")).to_have_count(2)
    # (The clash and the limit above answered 409 and 400 on purpose; nothing else may have failed.)
    assert [p for p in page.problems if "409" not in p and "400" not in p] == [], page.problems
    # The last administrator cannot be removed.
    await page.goto(f"/admin/users/{catalog.users['anna']}")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#delete-user")
    await expect(page.locator("#form-error")).to_contain_text("administrator")


async def test_admin_create_library_and_activity(admin_page: Any, catalog: Catalog, artifacts: Path) -> None:
    page = admin_page
    await page.goto("/admin/libraries")
    await page.fill("#lib-name", "Home Videos")
    await page.select_option("#lib-kind", "mixed")
    await page.fill("#lib-paths", "relative/path")
    await page.click("#new-library-form button")
    await expect(page.locator("#form-error")).to_contain_text("absolute")
    await expect(page.locator("#lib-name")).to_have_value("Home Videos")
    await page.fill("#lib-paths", "/media/home-videos\n/media/phone")
    await page.click("#new-library-form button")
    await expect(page.locator("#notice")).to_contain_text("Library added")
    card = page.locator("article[data-library-name='Home Videos']")
    await expect(card).to_contain_text("/media/phone")
    await screenshot(page, artifacts, "admin-libraries")

    await page.goto("/admin/activity")
    table = page.locator("#activity-table")
    await expect(table.locator("tr[data-type=login]").first).to_contain_text("anna")
    await screenshot(page, artifacts, "admin-activity")
    assert [p for p in page.problems if "400" not in p] == [], page.problems  # the bad path was a 400


async def test_real_scan_moves_the_bar(admin_page: Any, catalog: Catalog, sample_media: sample.SampleLibrary,
                                       pool: Any, settings: Settings, artifacts: Path) -> None:  # fmt: skip
    """The scan function's own code scans the sample library; its progress reaches the page."""
    from yaffw.redis_client import async_client
    from yaffw_scan.scanner import Scanner

    from tests.browser import object_store_for

    page = admin_page
    await page.goto("/admin/libraries")
    await page.fill("#lib-name", "Samples")
    await page.fill("#lib-paths", str(sample_media.movies))
    await page.click("#new-library-form button")
    card = page.locator("article[data-library-name='Samples']")
    lib = await card.get_attribute("data-library-id")
    assert lib
    await sse_ready(page)
    # Record every value the bar takes, however quickly the scan runs.
    await page.evaluate(
        """id => { window.seen = [];
           const bar = document.querySelector(`[data-scan-library='${id}'] [role=progressbar]`);
           new MutationObserver(() => window.seen.push(bar.getAttribute('aria-valuenow')))
             .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']}); }""",
        lib,
    )
    await card.locator("[data-scan-button]").click()
    await expect(card.locator("[data-scan-text]")).to_contain_text("Scan requested")
    redis = async_client(settings.redis_url)
    try:
        scanner = Scanner(pool, redis, object_store_for(settings), Keys(settings.redis_prefix), concurrency=2)
        await scanner.scan(lib)
    finally:
        await redis.aclose()
    await expect(card.locator("[data-scan-text]")).to_have_text("Scan complete")
    seen = await page.evaluate("window.seen")
    assert seen and seen[-1] == "100", seen
    assert len(seen) >= 2, seen  # at least one progress report before completion
    await expect(page.locator("#toasts")).to_contain_text("Finished scanning Samples")
    # What it found is browsable, with the poster it found beside the film.
    await page.goto(f"/libraries/{lib}")
    await expect(page.locator("main a[data-item-id]").first).to_be_visible()
    await expect(page.locator("main a[data-item-id]:has-text('Big Buck Test') img[data-poster]")).to_have_count(1)
    await screenshot(page, artifacts, "library-after-scan")
