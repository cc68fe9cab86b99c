"""Browser fixtures (a pytest plugin loaded by conftest.py): headless Debian Chromium driven by
Playwright, a catalogue of libraries, users and items written with SQL (posters made by FFmpeg and
stored through ``yaffw.storage``), and pages signed in through the real login form.

Fixtures: ``browser`` (session), ``catalog`` (fresh data per test), ``open_page`` (factory: a
signed-in page for a user of the catalogue), ``admin_page``, ``user_page``.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from yaffw import passwords, storage
from yaffw.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
# Generous: a shared 2-core machine may be busy with other engineers' test runs.
TIMEOUT_MS = 20_000

ADMIN = ("anna", "anna-password-1")
VIEWER = ("ben", "ben-password-1")

# (title, year, genres, rating, poster colours) of the movies with real posters.
MOVIES = [
    ("Big Buck Test", 2020, ["Animation", "Comedy"], 7.4, ("0x1e3a8a", "0xf59e0b")),
    ("Hevc Sample", 2021, ["Science Fiction"], 6.8, ("0x064e3b", "0x34d399")),
    ("Amélie – Ünïcode", 2001, ["Romance", "Comedy"], 8.3, ("0x7f1d1d", "0xfca5a5")),
    ("Night Train", 2018, ["Thriller"], 7.1, ("0x111827", "0x6366f1")),
    ("Paper Moons", 2016, ["Drama"], 6.9, ("0x312e81", "0xe0e7ff")),
    ("Quiet Harbour", 2022, ["Drama", "Mystery"], 7.8, ("0x0c4a6e", "0x7dd3fc")),
    ("Static Bloom", 2019, ["Documentary"], 7.0, ("0x4a044e", "0xf0abfc")),
    ("The Long Way Home", 2015, ["Adventure"], 7.6, ("0x422006", "0xfacc15")),
    ("Copper Skies", 2023, ["Western"], 6.5, ("0x7c2d12", "0xfdba74")),
    ("Glass Garden", 2014, ["Fantasy"], 7.2, ("0x14532d", "0xbbf7d0")),
]
# Enough more (without posters: the placeholder) for the library grid to need a second page.
EXTRA_MOVIES = 44


@dataclass
class Catalog:
    """Ids of what the ``catalog`` fixture wrote."""

    movies_library: str = ""
    shows_library: str = ""
    kids_library: str = ""  # the viewer is not given this one
    users: dict[str, str] = field(default_factory=dict)  # name -> id
    movies: dict[str, str] = field(default_factory=dict)  # title -> id
    show: str = ""
    seasons: list[str] = field(default_factory=list)
    episodes: list[str] = field(default_factory=list)
    kids_movie: str = ""


def _image(width: int, height: int, c0: str, c1: str, title: str) -> bytes:
    """A JPEG with a diagonal gradient and the title, made by FFmpeg."""
    text = title.replace("\\", "").replace("'", "").replace(":", " ")
    size = max(18, width // 11)
    vf = (
        f"gradients=s={width}x{height}:c0={c0}:c1={c1}:x0=0:y0=0:x1={width}:y1={height}:nb_colors=2,"
        f"drawtext=fontfile={FONT}:text='{text}':fontcolor=white:fontsize={size}:x=(w-tw)/2:y=h-th-h/8:"
        "shadowcolor=black@0.6:shadowx=2:shadowy=2"
    )
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", vf, "-frames:v", "1",
         "-q:v", "4", "-f", "mjpeg", "pipe:1"],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return out.stdout


@pytest.fixture(scope="session")
def artwork() -> dict[str, bytes]:
    """Posters (400x600) and backdrops/thumbs (960x540) for the catalogue, made once per run."""
    art: dict[str, bytes] = {}
    for title, _, _, _, (c0, c1) in MOVIES:
        art[f"poster:{title}"] = _image(400, 600, c0, c1, title)
    art["backdrop:Big Buck Test"] = _image(960, 540, "0x0f172a", "0xb45309", "")
    art["poster:Test Show"] = _image(400, 600, "0x172554", "0x60a5fa", "Test Show")
    art["backdrop:Test Show"] = _image(960, 540, "0x0b1120", "0x1d4ed8", "")
    for n in (1, 2):
        art[f"poster:Season {n}"] = _image(400, 600, "0x1e1b4b", "0x818cf8" if n == 1 else "0x2dd4bf", f"Season {n}")
    for n in range(3):
        art[f"thumb:{n}"] = _image(960, 540, "0x1f2937", ("0xf472b6", "0xa3e635", "0x38bdf8")[n], f"Episode {n + 1}")
    return art


@pytest.fixture(scope="session")
def password_hashes() -> dict[str, str]:
    """PBKDF2 hashes of the test users' passwords, computed once (each takes a noticeable moment)."""
    return {name: passwords.hash_password(pw) for name, pw in (ADMIN, VIEWER)}


def object_store_for(settings: Settings) -> storage.ObjectStore:
    """The store the api under test reads images from (moto's S3), with its bucket created."""
    store = storage.from_settings(settings)
    if isinstance(store, storage.S3Store):
        store.ensure_bucket()
    return store


@pytest.fixture(scope="session")
def object_store(settings: Settings) -> storage.ObjectStore:
    """:func:`object_store_for` this run's settings."""
    return object_store_for(settings)


async def _item(conn: asyncpg.Connection, library: str, type_: str, name: str, **cols: Any) -> str:
    cols = {"library_id": library, "type": type_, "name": name, "sort_name": name.lower(), **cols}
    names = ", ".join(cols)
    marks = ", ".join(f"${n}" for n in range(1, len(cols) + 1))
    return str(await conn.fetchval(f"INSERT INTO media_items ({names}) VALUES ({marks}) RETURNING id", *cols.values()))


async def _put_image(
    conn: asyncpg.Connection, store: storage.ObjectStore, item_id: str, kind: str, data: bytes
) -> None:
    key = f"items/{item_id}/{kind}.jpg"
    await asyncio.to_thread(store.put, key, data, "image/jpeg")
    await conn.execute(
        "INSERT INTO images (item_id, kind, object_key, content_type) VALUES ($1, $2, $3, 'image/jpeg')",
        item_id, kind, key,
    )  # fmt: skip


async def _streams(conn: asyncpg.Connection, item_id: str, rows: list[dict[str, Any]]) -> None:
    for index, row in enumerate(rows):
        cols = {"item_id": item_id, "stream_index": index, **row}
        names = ", ".join(cols)
        marks = ", ".join(f"${n}" for n in range(1, len(cols) + 1))
        await conn.execute(f"INSERT INTO media_streams ({names}) VALUES ({marks})", *cols.values())


_H264 = {"type": "video", "codec": "h264", "profile": "High", "width": 1920, "height": 1080, "frame_rate": 23.976,
         "bit_depth": 8, "pixel_format": "yuv420p", "bitrate": 8_000_000, "is_default": True}  # fmt: skip
_AAC = {"type": "audio", "codec": "aac", "channels": 2, "channel_layout": "stereo", "sample_rate": 48000,
        "bitrate": 160_000, "language": "eng", "is_default": True}  # fmt: skip


@pytest.fixture
async def catalog(clean_db: asyncpg.Pool, object_store: storage.ObjectStore, artwork: dict[str, bytes],
                  password_hashes: dict[str, str]) -> Catalog:  # fmt: skip
    """Two users, three libraries, movies with posters and streams, a show with seasons and
    episodes, and the viewer's watch state. Written fresh for each test."""
    cat = Catalog()
    now = datetime.now(UTC)
    async with clean_db.acquire() as conn, conn.transaction():
        for kind, name in (("movies", "Movies"), ("shows", "Shows"), ("movies", "Kids")):
            lib_id = str(await conn.fetchval(
                "INSERT INTO libraries (name, kind, paths, last_scan_at) VALUES ($1, $2, $3, $4) RETURNING id",
                name, kind, [f"/media/{name.lower()}"], now - timedelta(hours=3),
            ))  # fmt: skip
            setattr(cat, f"{name.lower()}_library", lib_id)
        for (name, _), admin in ((ADMIN, True), (VIEWER, False)):
            cat.users[name] = str(await conn.fetchval(
                "INSERT INTO users (name, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING id",
                name, password_hashes[name], admin,
            ))  # fmt: skip
        await conn.execute("INSERT INTO library_access (user_id, library_id) VALUES ($1, $2), ($1, $3)",
                           cat.users["ben"], cat.movies_library, cat.shows_library)  # fmt: skip

        # Movies: the newest additions are the first in MOVIES.
        for n, (title, year, genres, rating, _) in enumerate(MOVIES):
            item_id = await _item(
                conn, cat.movies_library, "movie", title, year=year, genres=genres, rating=rating,
                plot=f"{title} is a film about patterns, light and the people who watch them.",
                path=f"/media/movies/{title} ({year})/{title} ({year}).mkv", container="mkv",
                duration_seconds=5400.0 + 60 * n, bitrate=8_400_000, size=5_600_000_000 + n,
                date_added=now - timedelta(minutes=10 * n + 1),
            )  # fmt: skip
            cat.movies[title] = item_id
            await _put_image(conn, object_store, item_id, "primary", artwork[f"poster:{title}"])
            await _streams(conn, item_id, [_H264, _AAC])
        await _put_image(conn, object_store, cat.movies["Big Buck Test"], "backdrop", artwork["backdrop:Big Buck Test"])
        hevc = cat.movies["Hevc Sample"]
        await conn.execute("DELETE FROM media_streams WHERE item_id = $1", hevc)
        await _streams(conn, hevc, [
            {**_H264, "codec": "hevc", "profile": "Main 10", "width": 3840, "height": 2160, "bit_depth": 10},
            {**_AAC, "title": "English Stereo"},
            {"type": "audio", "codec": "ac3", "channels": 6, "channel_layout": "5.1(side)", "sample_rate": 48000,
             "bitrate": 384_000, "language": "fre", "title": "Français 5.1"},
            {"type": "subtitle", "codec": "subrip", "language": "eng", "title": "English"},
            {"type": "subtitle", "codec": "subrip", "language": "ger", "is_forced": True, "is_external": True},
        ])  # fmt: skip
        for n in range(EXTRA_MOVIES):
            await _item(conn, cat.movies_library, "movie", f"Archive Reel {n + 1:02d}", year=1950 + n,
                        duration_seconds=3600.0, date_added=now - timedelta(days=30 + n))  # fmt: skip
        cat.kids_movie = await _item(conn, cat.kids_library, "movie", "Secret Kids Film", year=2024,
                                     date_added=now)  # fmt: skip

        # A show: series -> 2 seasons -> 3 episodes.
        cat.show = await _item(conn, cat.shows_library, "series", "Test Show", year=2019, genres=["Documentary"],
                               plot="Patterns, weekly.", date_added=now - timedelta(days=2))  # fmt: skip
        await _put_image(conn, object_store, cat.show, "primary", artwork["poster:Test Show"])
        await _put_image(conn, object_store, cat.show, "backdrop", artwork["backdrop:Test Show"])
        episode_no = 0
        for season_no, count in ((1, 2), (2, 1)):
            season = await _item(conn, cat.shows_library, "season", f"Season {season_no}", parent_id=cat.show,
                                 index_number=season_no, date_added=now - timedelta(days=2))  # fmt: skip
            cat.seasons.append(season)
            await _put_image(conn, object_store, season, "primary", artwork[f"poster:Season {season_no}"])
            for ep in range(1, count + 1):
                names = {(1, 1): "Pilot Pattern", (1, 2): "Sine of the Times", (2, 1): "Return of the Bars"}
                ep_id = await _item(
                    conn, cat.shows_library, "episode", names[(season_no, ep)], parent_id=season,
                    index_number=ep, parent_index_number=season_no, duration_seconds=1500.0 + ep,
                    path=f"/media/shows/Test Show/Season {season_no:02d}/Test Show S{season_no:02d}E{ep:02d}.mp4",
                    container="mp4", date_added=now - timedelta(days=2, minutes=episode_no),
                )  # fmt: skip
                await _put_image(conn, object_store, ep_id, "thumb", artwork[f"thumb:{episode_no}"])
                await _streams(conn, ep_id, [{**_H264, "width": 1280, "height": 720}, _AAC])
                cat.episodes.append(ep_id)
                episode_no += 1

        # Ben is halfway through an episode and 20 minutes into a film.
        for item_id, position in ((cat.episodes[1], 700.0), (hevc, 1200.0)):
            await conn.execute(
                "INSERT INTO user_item_data (user_id, item_id, position_seconds, last_played_at) "
                "VALUES ($1, $2, $3, now())",
                cat.users["ben"], item_id, position,
            )  # fmt: skip
    return cat


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, through Playwright (its own browser downloads are not used)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


OpenPage = Callable[..., Awaitable[Any]]


async def signed_in_page(browser: Any, api_url: str, name: str, password: str, *, width: int = 1440,
                         height: int = 900, init_script: str | None = None) -> Any:  # fmt: skip
    """A page of a new browser context, signed in through the real login form; the caller closes
    ``page.context``. ``init_script`` runs in every document before its own scripts.

    Console errors and failed requests are collected on ``page.problems``.
    """
    context = await browser.new_context(base_url=api_url, viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    if init_script:
        await context.add_init_script(init_script)
    page = await context.new_page()
    page.problems = []
    page.on("pageerror", lambda exc: page.problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and page.problems.append(f"console: {msg.text}"))
    await page.goto("/login")
    await page.fill("#username", name)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(api_url + "/")
    return page


# The player's state, for failure messages: where the video is, what it has, what hls.js reported.
PLAYER_STATE = """(() => { const v = document.getElementById('video'), b = v.buffered;
  return {t: v.currentTime, paused: v.paused, ended: v.ended, readyState: v.readyState,
    buffered: Array.from({length: b.length}, (_, i) => [b.start(i), b.end(i)]),
    overlay: !document.getElementById('click-to-play').hidden, error: document.getElementById('player-error')
      ? document.getElementById('player-error').textContent : null,
    hlsErrors: window.yaffwPlayer ? window.yaffwPlayer.hlsErrors : null}; })()"""


async def start_playing(page: Any, timeout: float = 30.0) -> None:
    """On the player page: wait until the video really plays (not paused, with data ahead) or has
    ended, clicking the play overlay whenever the browser refused to start without a gesture.

    "Its time is past 0" is not playing: a resumed film is seeked to its position before play()
    settles, and a play() refused then shows the overlay with nobody to click it.
    :raises TimeoutError: with the player's state.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        playing, overlay = await page.evaluate(
            """() => { const v = document.getElementById('video'), overlay = document.getElementById('click-to-play');
              return [v.ended || (!v.paused && v.readyState >= 3), !overlay.hidden]; }"""
        )
        if playing:
            return
        if overlay:
            await page.click("#click-to-play")
        await asyncio.sleep(0.2)
    raise TimeoutError(f"not playing after {timeout:.0f} s: {await page.evaluate(PLAYER_STATE)}")


@pytest.fixture
async def open_page(browser: Any, api_url: str, catalog: Catalog) -> AsyncIterator[OpenPage]:
    """Factory: ``await open_page("ben", width=1280)`` → a page signed in through the login form.

    Console errors and failed requests are collected on ``page.problems``.
    """
    contexts = []

    async def open_(name: str, *, password: str | None = None, width: int = 1440, height: int = 900) -> Any:
        page = await signed_in_page(browser, api_url, name, password or dict((ADMIN, VIEWER))[name],
                                    width=width, height=height)  # fmt: skip
        contexts.append(page.context)
        return page

    yield open_
    for context in contexts:
        await context.close()


@pytest.fixture
async def admin_page(open_page: OpenPage) -> Any:
    """A page signed in as the administrator (anna)."""
    return await open_page(ADMIN[0])


@pytest.fixture
async def user_page(open_page: OpenPage) -> Any:
    """A page signed in as the viewer (ben), who sees Movies and Shows but not Kids."""
    return await open_page(VIEWER[0])


async def wait_for_js(page: Any, expression: str, timeout: float = 30_000, *, state: str | None = None) -> None:
    """Poll ``expression`` until it is truthy (``timeout`` in ms, like Playwright's).

    ``page.wait_for_function`` evaluates its string with ``eval`` inside the page, which the
    pages' Content-Security-Policy (no 'unsafe-eval') forbids; ``page.evaluate`` goes through the
    DevTools protocol, which CSP does not govern. :raises TimeoutError: with the expression, and
    the value of ``state`` (e.g. :data:`PLAYER_STATE`) when given.
    """
    deadline = time.monotonic() + timeout / 1000
    while not await page.evaluate(expression):
        if time.monotonic() > deadline:
            seen = f": {await page.evaluate(state)}" if state else ""
            raise TimeoutError(f"{expression!r} still false after {timeout / 1000:.0f} s{seen}")
        await asyncio.sleep(0.05)


async def screenshot(page: Any, artifacts: Path, name: str) -> Path:
    """A full-page PNG under ``artifacts``, after the page's images (lazy ones too) have loaded."""
    # A full-page shot does not scroll, so lazy images below the fold would stay placeholders.
    await page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => { i.loading = 'eager'; })")
    await page.wait_for_load_state("networkidle")
    await wait_for_js(page, "Array.from(document.images).every(i => i.complete)")
    path = artifacts / f"ui-{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
