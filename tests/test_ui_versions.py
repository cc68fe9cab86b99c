"""The item page of a film with versions, extras and parts (issue 16), in headless Chromium against the
real api and a library scanned from real FFmpeg files: the versions menu (each version playable from
it, the player asked for that version), the extras, and the parts line. Screenshot:
``test-artifacts/item-versions-extras.png``.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests._media_rows import make_user
from tests._scan_helpers import items, scan_new_library
from tests.browser import signed_in_page, wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
async def library(pool, settings, sample_media, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("ui-versions")
    folder = root / "Choice (2015)"
    (folder / "featurettes").mkdir(parents=True)
    shutil.copy(sample_media.mkv, folder / "Choice (2015) - Director's Cut.mkv")
    shutil.copy(sample_media.mp4, folder / "Choice (2015) - 1080p.mp4")
    data = sample_media.mp4.read_bytes()
    (folder / "Choice (2015)-trailer.mp4").write_bytes(data + b"\0")
    (folder / "featurettes" / "Making Of.mp4").write_bytes(data + b"\0\0")
    parted = root / "Halves (2016)"
    parted.mkdir()
    (parted / "Halves (2016) - cd1.mp4").write_bytes(data + b"\0\0\0")
    (parted / "Halves (2016) - cd2.mp4").write_bytes(data + b"\0\0\0\0")
    library, result = await scan_new_library(pool, settings, "ui-versions", root)
    assert (result.added, result.failed) == (6, 0)
    rows = await items(pool, library)
    return {
        "film": str(rows[str(folder / "Choice (2015) - 1080p.mp4")]["id"]),
        "cut": str(rows[str(folder / "Choice (2015) - Director's Cut.mkv")]["id"]),
        "halves": str(rows[str(parted / "Halves (2016) - cd1.mp4")]["id"]),
        "viewer": await make_user(pool, settings, libraries=(library,)),
    }


async def test_item_page_shows_versions_extras_and_parts(browser, api_url, library, artifacts) -> None:
    viewer = library["viewer"]
    page = await signed_in_page(browser, api_url, viewer["name"], viewer["password"], width=1280, height=1400)
    try:
        await page.goto(f"/items/{library['film']}")
        versions = page.locator("#versions [data-version]")
        assert await versions.count() == 2
        assert [await v.get_attribute("data-version") for v in await versions.all()] == [
            library["film"], library["cut"],
        ]  # fmt: skip
        texts = [" ".join((await v.inner_text()).split()) for v in await versions.all()]
        assert texts[0].startswith("1080p Main") and texts[1].startswith("Director's Cut"), texts
        extras = page.locator("#extras [data-extra-kind]")
        assert [await x.get_attribute("data-extra-kind") for x in await extras.all()] == ["trailer", "featurette"]
        await page.locator("#versions").scroll_into_view_if_needed()
        await page.screenshot(path=str(artifacts / "item-versions-extras.png"), full_page=True)

        # "Play" on the Director's Cut: the player asks for that version.
        asked: list[dict] = []
        page.on("request", lambda r: r.method == "POST" and r.url.endswith("/playback")
                and asked.append(json.loads(r.post_data or "{}")))  # fmt: skip
        await page.locator(f"#versions [data-version='{library['cut']}'] a").click()
        await page.wait_for_url(f"**/items/{library['film']}/play?source={library['cut']}")
        await wait_for_js(page, "document.getElementById('player').dataset.session !== undefined"
                                " && document.getElementById('player').dataset.session !== ''")  # fmt: skip
        assert asked and asked[0]["source"] == library["cut"], asked
        assert not [p for p in page.problems if p.startswith("pageerror")], page.problems

        await page.goto(f"/items/{library['halves']}")
        assert " ".join((await page.locator("#parts").inner_text()).split()) == "2 files, played as one"
        assert await page.locator("#versions").count() == 0
    finally:
        await page.context.close()
