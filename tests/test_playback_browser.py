"""The web player in headless Chromium against a real api process: sign in, play the MP4 sample by
direct play, watch time advance, seek, leave, come back and be offered to resume at the saved
position; an admin watches the session live on /admin/sessions and it disappears on stop.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright, expect
from yaffw import sessions

from tests._media_rows import insert_item, make_library, make_user
from tests.browser import CHROMIUM, CHROMIUM_ARGS, start_playing, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

TIMEOUT_MS = 30_000  # a shared 2-core machine may be busy


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Any]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def _signed_in(browser: Any, api_url: str, user: dict) -> Any:
    context = await browser.new_context(base_url=api_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
    await page.goto("/login")
    await page.fill("#username", user["name"])
    await page.fill("#password", user["password"])
    await page.click("button[type=submit]")
    await page.wait_for_url(api_url + "/")
    return page


async def _eventually(check, timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_play_seek_leave_resume(chromium, api_url, pool, redis, keys, settings, sample_media,
                                      artifacts: Path) -> None:  # fmt: skip
    lib = await make_library(pool, sample_media.movies)
    item_id = await insert_item(pool, lib, sample_media.mp4, name="Big Buck Test")
    viewer = await make_user(pool, settings, libraries=(lib,))
    admin = await make_user(pool, settings, admin=True)
    page = await _signed_in(chromium, api_url, viewer)
    admin_page = await _signed_in(chromium, api_url, admin)
    await admin_page.goto("/admin/sessions")

    # Play: no saved position, so it starts at once, by direct play (Chromium plays H.264/AAC MP4).
    await page.goto(f"/items/{item_id}/play")
    player = page.locator("#player")
    await expect(player).to_have_attribute("data-method", "direct_play")
    await expect(page.locator("#playback-info")).to_contain_text("Direct play")
    await start_playing(page)
    await wait_for_js(page, "document.getElementById('video').currentTime > 1.0")
    sid = await player.get_attribute("data-session")
    assert (await sessions.get(redis, keys, sid)).method == "direct_play"

    # The admin page shows the session without a reload.
    await expect(admin_page.locator(f"tr[data-sid='{sid}']")).to_contain_text("Big Buck Test")
    await expect(admin_page.locator(f"tr[data-sid='{sid}']")).to_contain_text(viewer["name"])

    # Seek: the new position is reported (and time goes on from there).
    await page.evaluate("() => { const v = document.getElementById('video'); v.currentTime = 12; }")
    await wait_for_js(page, "document.getElementById('video').currentTime > 12.3")
    await page.evaluate("() => document.getElementById('video').pause()")
    await wait_for_js(page, "parseFloat(document.getElementById('player').dataset.reported) >= 12")
    paused_at = await page.evaluate("document.getElementById('video').currentTime")
    assert 12 <= paused_at < 27  # before 90 %, or the item would be marked played instead
    await page.screenshot(path=str(artifacts / "playback-playing.png"))

    async def saved() -> float | None:
        return await pool.fetchval(
            "SELECT position_seconds FROM user_item_data WHERE user_id = $1 AND item_id = $2", viewer["id"], item_id
        )

    assert await _eventually(lambda: _near(saved, paused_at))

    # Leave: the page ends its session on the way out.
    await page.goto(f"/items/{item_id}")
    assert await _eventually(lambda: _gone(redis, keys, sid)), "session still open after leaving"
    await expect(admin_page.locator(f"tr[data-sid='{sid}']")).to_have_count(0)
    assert abs((await saved()) - paused_at) < 1.0

    # Come back: offered to resume at the saved position.
    await page.goto(f"/items/{item_id}/play")
    dialog = page.locator("#resume-dialog")
    await expect(dialog).to_be_visible()
    minutes, seconds = divmod(int(paused_at), 60)
    await expect(page.locator("#resume-at")).to_have_text(f"{minutes}:{seconds:02d}")
    await page.screenshot(path=str(artifacts / "playback-resume.png"))
    await page.click("#resume-yes")
    await expect(dialog).to_be_hidden()
    await start_playing(page)
    await wait_for_js(page, f"document.getElementById('video').currentTime >= {paused_at - 0.5:.2f}")

    # Stop ends the session and returns to the item page.
    sid2 = await player.get_attribute("data-session")
    assert sid2 and sid2 != sid
    await page.click("#stop")
    await page.wait_for_url(f"{api_url}/items/{item_id}")
    assert await _eventually(lambda: _gone(redis, keys, sid2))
    types = [r["type"] for r in await pool.fetch(
        "SELECT type FROM activity_log WHERE item_id = $1 ORDER BY at, id", item_id)]  # fmt: skip
    assert types == ["playback.started", "playback.stopped"] * 2
    assert not page.problems, page.problems
    await page.context.close()
    await admin_page.context.close()


async def _near(saved, target: float) -> bool:
    value = await saved()
    return value is not None and abs(value - target) < 1.0


async def _gone(redis, keys, sid: str) -> bool:
    return await sessions.get(redis, keys, sid) is None
