# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""A household moving from Jellyfin (issue 12): users migrated by the real ``yaffw migrate-jellyfin``
command log in through Jellyfin's ``/Users/AuthenticateByName`` with the passwords they had in
Jellyfin, and their Jellyfin app finds its watch state where it left it: played marks and play
counts, resume positions in ticks, favourites, the resume list, each user seeing only their own.
Every answer is validated against Jellyfin's OpenAPI document.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from yaffw.sample import SampleLibrary
from yaffw.settings import Settings

from tests import jellyfin_support as jf
from tests.api_fixtures import http, no_login_limits  # noqa: F401
from tests.jellyfin_fixture import ALICE_PW, BOB_PW, CAROL_PW, build, scan_rows

pytestmark = pytest.mark.timeout(180)

TICKS = 10_000_000


def _migrate_cli(settings: Settings, data_dir: Path, path_map: list[str]) -> str:
    """Run ``yaffw migrate-jellyfin`` as an operator would; its report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_"))}
    env.pop("DATABASE_URL", None)
    env.update(settings.to_env())
    args = [sys.executable, "-m", "yaffw.cli", "migrate-jellyfin", "--data-dir", str(data_dir), "--no-progress"]
    for mapping in path_map:
        args += ["--path-map", mapping]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def _get(http: httpx.AsyncClient, url: str, token: str, path: str, **params: object) -> dict:
    r = await http.get(url + path, params=params, headers=jf.client_headers("migrated", token))
    assert r.status_code == 200, (path, r.status_code, r.text)
    return jf.validate(r)


@pytest.mark.usefixtures("no_login_limits")
async def test_migrated_users_log_in_with_their_jellyfin_password_and_find_their_watch_state(
    tmp_path: Path, clean_db: asyncpg.Pool, settings: Settings, sample_media: SampleLibrary, api_url: str,
    http: httpx.AsyncClient,
) -> None:  # fmt: skip
    built = build(tmp_path / "jellyfin", "10.11", sample_media)
    ids = {label: uid.replace("-", "") for label, uid in (await scan_rows(clean_db, sample_media)).items()}
    report = _migrate_cli(settings, built.root, built.path_map)
    assert "users" in report

    # Jellyfin's own password hashes, both formats (10.3+ PBKDF2-SHA512 and the older PBKDF2-SHA1).
    alice = await jf.login(http, api_url, "alice", ALICE_PW, "migrated-alice")
    bob = await jf.login(http, api_url, "bob", BOB_PW, "migrated-bob")
    for name, password in (("alice", "not it"), ("carol", CAROL_PW)):  # wrong password; disabled in Jellyfin
        r = await http.post(f"{api_url}/Users/AuthenticateByName", json={"Username": name, "Pw": password},
                            headers=jf.client_headers("migrated-x"))  # fmt: skip
        assert r.status_code in (401, 403), (name, r.status_code, r.text)

    me = await _get(http, api_url, alice, "/Users/Me")
    assert (me["Name"], me["Policy"]["IsAdministrator"]) == ("alice", True)

    # Alice: the film she finished (3 plays), the one she stopped at 612.5 s and marked favourite,
    # the series she marked favourite, an episode she watched.
    mp4 = (await _get(http, api_url, alice, f"/Items/{ids['mp4']}", userId=me["Id"]))["UserData"]
    assert (mp4["Played"], mp4["PlayCount"]) == (True, 3)
    assert mp4.get("PlaybackPositionTicks", 0) == 0 and mp4["LastPlayedDate"].startswith("2024-05-01T20:15:30")
    mkv = (await _get(http, api_url, alice, f"/Items/{ids['mkv']}"))["UserData"]
    assert (mkv["PlaybackPositionTicks"], mkv["IsFavorite"], mkv["Played"]) == (int(612.5 * TICKS), True, False)
    series = (await _get(http, api_url, alice, f"/Items/{ids['series']}"))["UserData"]
    assert series["IsFavorite"] is True
    ep1 = await _get(http, api_url, alice, f"/UserItems/{ids['ep1']}/UserData")
    assert (ep1["Played"], ep1["PlayCount"]) == (True, 1)

    resume = await _get(http, api_url, alice, "/UserItems/Resume", userId=me["Id"])
    assert [i["Id"] for i in resume["Items"]] == [ids["mkv"]]
    assert resume["Items"][0]["UserData"]["PlaybackPositionTicks"] == int(612.5 * TICKS)
    favourites = await _get(http, api_url, alice, "/Items", Recursive="true", Filters="IsFavorite")
    assert {i["Id"] for i in favourites["Items"]} == {ids["mkv"], ids["series"]}
    played = await _get(http, api_url, alice, "/Items", Recursive="true", IsPlayed="true",
                        IncludeItemTypes="Movie,Episode")  # fmt: skip
    assert {i["Id"] for i in played["Items"]} == {ids["mp4"], ids["ep1"]}

    # Bob: half an episode, in the one library Jellyfin let him see; none of alice's state.
    bob_resume = await _get(http, api_url, bob, "/UserItems/Resume")
    assert [(i["Id"], i["UserData"]["PlaybackPositionTicks"]) for i in bob_resume["Items"]] == [
        (ids["ep2"], int(300.25 * TICKS))
    ]
    ep1_for_bob = (await _get(http, api_url, bob, f"/Items/{ids['ep1']}"))["UserData"]
    assert ep1_for_bob["Played"] is False and ep1_for_bob.get("PlayCount", 0) == 0
    hidden = await http.get(f"{api_url}/Items/{ids['mkv']}", headers=jf.client_headers("migrated-bob", bob))
    assert hidden.status_code == 404, hidden.text
