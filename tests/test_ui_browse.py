"""The web UI in headless Chromium: sign in, posters on the home page, a show down to an episode,
search as you type, the played toggle, paging, access rules. Each main page leaves a screenshot in
``test-artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.browser import Catalog, OpenPage, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


async def loaded_posters(page: Any, scope: str) -> int:
    """How many poster images under ``scope`` really loaded (decoded with a size)."""
    return await page.eval_on_selector_all(
        f"{scope} img[data-poster]", "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"
    )


async def test_login_page_and_bad_password(browser: Any, api_url: str, catalog: Catalog, artifacts: Path) -> None:
    context = await browser.new_context(base_url=api_url, viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    # Signed out, a page sends you to the login form and, after it, back where you were going.
    await page.goto(f"/items/{catalog.show}")
    await expect(page).to_have_url(re.compile(r"/login\?next=/items/"))
    await screenshot(page, artifacts, "login")
    await page.fill("#username", "ben")
    await page.fill("#password", "wrong")
    await page.click("button[type=submit]")
    await expect(page.locator("#login-error")).to_contain_text("Wrong user name or password")
    await page.fill("#password", "ben-password-1")
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{api_url}/items/{catalog.show}")
    await expect(page.locator("h1")).to_contain_text("Test Show")
    await context.close()


async def test_home_shows_posters(user_page: Any, catalog: Catalog, artifacts: Path) -> None:
    page = user_page
    await expect(page.locator("#recently-added a[data-item-id]").first).to_be_visible()
    # Continue watching: the episode and the film Ben is part way through, with progress bars.
    resume = page.locator("#continue-watching a[data-item-id]")
    await expect(resume).to_have_count(2)
    await expect(page.locator("#continue-watching [role=progressbar]").first).to_be_visible()
    await page.wait_for_load_state("networkidle")
    assert await loaded_posters(page, "#recently-added") >= 8
    # Libraries: Ben sees Movies and Shows, not Kids (nor its film in recently added).
    await expect(page.locator("#libraries a")).to_have_count(2)
    assert await page.locator(f"[data-item-id='{catalog.kids_movie}']").count() == 0
    await screenshot(page, artifacts, "home")
    assert not page.problems, page.problems


async def test_show_to_episode(user_page: Any, catalog: Catalog, artifacts: Path) -> None:
    page = user_page
    await page.click("#libraries a:has-text('Shows')")
    await expect(page.locator("h1")).to_have_text("Shows")
    await page.click("a[data-item-id] >> text=Test Show")
    await expect(page.locator("h1")).to_contain_text("Test Show")
    await expect(page.locator("#seasons a[data-item-id]")).to_have_count(2)
    await page.wait_for_load_state("networkidle")
    assert await loaded_posters(page, "#seasons") == 2
    await screenshot(page, artifacts, "show")
    await page.click("#seasons a >> text=Season 1")
    await expect(page.locator("#episodes li")).to_have_count(2)
    await screenshot(page, artifacts, "season")
    await page.click("#episodes a >> text=Sine of the Times")
    await expect(page.locator("h1")).to_contain_text("Sine of the Times")
    # Breadcrumbs lead back up; the stream facts are there; Play (resume) links to the player.
    await expect(page.locator("nav[aria-label=Breadcrumb]")).to_contain_text("Test Show")
    await expect(page.locator("#stream-facts tr[data-stream=video]")).to_contain_text("720p")
    await expect(page.locator("#play")).to_have_attribute("href", re.compile(rf"^/items/{catalog.episodes[1]}/play"))
    await expect(page.locator("#play")).to_contain_text("Resume")
    await screenshot(page, artifacts, "episode")
    assert not page.problems, page.problems


async def test_item_stream_facts(user_page: Any, catalog: Catalog, artifacts: Path) -> None:
    page = user_page
    await page.goto(f"/items/{catalog.movies['Hevc Sample']}")
    facts = page.locator("#stream-facts")
    await expect(facts.locator("tr[data-stream=video]")).to_contain_text("HEVC")
    await expect(facts.locator("tr[data-stream=video]")).to_contain_text("4K")
    audio = facts.locator("tr[data-stream=audio]")
    await expect(audio).to_have_count(2)
    await expect(audio.nth(0)).to_contain_text("English")
    await expect(audio.nth(0)).to_contain_text("Stereo")
    await expect(audio.nth(1)).to_contain_text("French")
    await expect(audio.nth(1)).to_contain_text("5.1")
    await expect(audio.nth(1)).to_contain_text("Dolby Digital")
    subs = facts.locator("tr[data-stream=subtitle]")
    await expect(subs).to_have_count(2)
    await expect(subs.nth(1)).to_contain_text("German")
    await expect(subs.nth(1)).to_contain_text("Forced")
    await page.goto(f"/items/{catalog.movies['Big Buck Test']}")
    await page.wait_for_load_state("networkidle")
    assert await loaded_posters(page, "section") >= 2  # the backdrop and the poster
    await screenshot(page, artifacts, "movie")


async def test_toggle_played_and_favorite(user_page: Any, api_url: str, catalog: Catalog) -> None:
    page = user_page
    movie = catalog.movies["Night Train"]
    await page.goto(f"/items/{movie}")
    played = page.locator("#toggle-played")
    await expect(played).to_have_attribute("aria-pressed", "false")
    await played.click()
    await expect(played).to_have_attribute("aria-pressed", "true")
    await expect(played).to_contain_text("Played")
    favorite = page.locator("#toggle-favorite")
    await favorite.click()
    await expect(favorite).to_have_attribute("aria-pressed", "true")
    # It is stored: a fresh load shows it, and so does the library grid's played badge.
    await page.reload()
    await expect(page.locator("#toggle-played")).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#toggle-favorite")).to_have_attribute("aria-pressed", "true")
    await page.locator("#toggle-played").click()
    await expect(page.locator("#toggle-played")).to_have_attribute("aria-pressed", "false")
    await page.reload()
    await expect(page.locator("#toggle-played")).to_have_attribute("aria-pressed", "false")
    assert not page.problems, page.problems


async def test_search_as_you_type(user_page: Any, catalog: Catalog, artifacts: Path) -> None:
    page = user_page
    await page.goto("/search")
    box = page.locator("#search-input")
    await box.press_sequentially("harb", delay=60)
    results = page.locator("#search-results a[data-item-id]")
    await expect(results).to_have_count(1)
    await expect(results.first).to_contain_text("Quiet Harbour")
    await expect(page).to_have_url(re.compile(r"/search\?q=harb"))
    # Episodes are found too, labelled with their show; the Kids library stays hidden from Ben.
    await box.fill("")
    await box.press_sequentially("pattern", delay=40)
    await expect(page.locator("#search-results")).to_contain_text("Pilot Pattern")
    await expect(page.locator("#search-results")).to_contain_text("Test Show · S1 E1")
    await box.fill("Secret Kids")
    await expect(page.locator("#search-count")).to_contain_text("Nothing matches")
    await box.fill("")
    await box.press_sequentially("e", delay=10)
    await expect(page.locator("#search-count")).to_contain_text("results")
    await page.wait_for_load_state("networkidle")
    await screenshot(page, artifacts, "search")
    # The header's search box opens the same page.
    await page.fill("#nav-search", "night")
    await page.press("#nav-search", "Enter")
    await expect(page.locator("#search-results a[data-item-id]").first).to_contain_text("Night Train")
    assert not page.problems, page.problems


async def test_library_grid_pages(user_page: Any, catalog: Catalog, artifacts: Path) -> None:
    page = user_page
    await page.goto(f"/libraries/{catalog.movies_library}")
    grid = page.locator("main a[data-item-id]")
    await expect(grid).to_have_count(48)
    await expect(page.locator("nav[aria-label=Pages]")).to_contain_text("Page 1 of 2")
    await screenshot(page, artifacts, "library")
    await page.click("a[rel=next]")
    await expect(page.locator("nav[aria-label=Pages]")).to_contain_text("Page 2 of 2")
    await expect(grid).to_have_count(len(catalog.movies) + 44 - 48)
    await page.select_option("#sort", "date_added")
    await expect(page).to_have_url(re.compile(r"sort=date_added"))
    await expect(grid.first).to_contain_text("Big Buck Test")


async def test_access_and_errors(user_page: Any, api_url: str, catalog: Catalog) -> None:
    page = user_page
    # Another library's item and library are "not found", as an HTML page.
    for url in (f"/items/{catalog.kids_movie}", f"/libraries/{catalog.kids_library}", "/items/not-a-uuid",
                "/items/../../etc/passwd", f"/libraries/{catalog.movies_library}?page=-1"):  # fmt: skip
        response = await page.goto(url)
        assert response is not None
        assert response.status in (400, 404), (url, response.status)
        assert "text/html" in response.headers["content-type"]
    # A viewer cannot open admin pages.
    response = await page.goto("/admin/users")
    assert response is not None and response.status == 403
    # Pages without a session redirect to /login; a foreign ?next= is ignored.
    anon = httpx.get(api_url + "/", follow_redirects=False)
    assert anon.status_code == 302 and anon.headers["location"] == "/login"
    assert httpx.get(api_url + "/login?next=//evil.example/", follow_redirects=False).status_code == 200
    r = httpx.post(api_url + "/login", data={"username": "ben", "password": "ben-password-1",
                                             "next": "https://evil.example/"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/"
    # Malformed sign-ins are answered with the form and a 4xx, never a 500.
    for body in ({"json": {"username": "ben"}}, {"data": {"username": "x" * 5000, "password": "p"}},
                 {"data": {"username": "ben\x00", "password": "p"}}, {"content": b"\xff\xfe=%%%"}):  # fmt: skip
        r = httpx.post(api_url + "/login", headers={"Accept": "text/html"}, **body)
        assert r.status_code in (400, 401), (body, r.status_code)
        assert "Sign in" in r.text
    # A form post without the CSRF token is refused (signing out here would be a cross-site trick).
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    r = httpx.post(api_url + "/logout", cookies={"yaffw_token": cookies["yaffw_token"]},
                   headers={"Accept": "text/html"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 403
    await page.goto("/")
    await expect(page.locator("#libraries")).to_be_visible()  # still signed in
    # Signing out through the menu ends the session: the old cookie no longer opens pages.
    await page.click("summary[aria-label=Account]")
    await page.click("button:has-text('Sign out')")
    await expect(page.locator("#username")).to_be_visible()
    r = httpx.get(api_url + "/", cookies={"yaffw_token": cookies["yaffw_token"]}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/login"
    # Static files: cached when versioned, and only the known set.
    css = httpx.get(api_url + "/static/app.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert httpx.get(api_url + "/static/app.css", headers={"If-None-Match": css.headers["etag"]}).status_code == 304
    assert httpx.get(api_url + "/static/..%2fapp.py").status_code == 404
    assert httpx.get(api_url + "/static/nope.js").status_code == 404


@pytest.mark.parametrize(("label", "width", "height"), [("phone", 390, 844), ("tv", 2560, 1440)])
async def test_responsive_layouts(open_page: OpenPage, catalog: Catalog, artifacts: Path, label: str, width: int,
                                  height: int) -> None:  # fmt: skip
    page = await open_page("ben", width=width, height=height)
    # Nothing is wider than the screen (no sideways scrolling of the page itself).
    for url in ("/", f"/items/{catalog.movies['Hevc Sample']}", f"/libraries/{catalog.movies_library}"):
        await page.goto(url)
        overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, (label, url, overflow)
    columns = await page.evaluate(
        "getComputedStyle(document.querySelector('main .grid')).gridTemplateColumns.split(' ').length"
    )
    assert columns == (2 if label == "phone" else 8)
    await screenshot(page, artifacts, f"{label}-library")
    await page.goto("/")
    await screenshot(page, artifacts, f"{label}-home")
    await page.goto(f"/items/{catalog.movies['Hevc Sample']}")
    await screenshot(page, artifacts, f"{label}-movie")


async def test_keyboard_focus_is_visible(user_page: Any, catalog: Catalog) -> None:
    page = user_page
    await page.goto(f"/items/{catalog.movies['Night Train']}")
    # The first Tab reaches the skip link, which appears; later ones walk the header and the page.
    await page.keyboard.press("Tab")
    skip = page.locator("a:has-text('Skip to content')")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_visible()
    await page.focus("#play")
    await page.keyboard.press("Tab")
    await expect(page.locator("#toggle-played")).to_be_focused()
    outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    width = await page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    assert outline == "solid" and width >= 2
    # Enter on the focused toggle works like a click.
    await page.keyboard.press("Enter")
    await expect(page.locator("#toggle-played")).to_have_attribute("aria-pressed", "true")
