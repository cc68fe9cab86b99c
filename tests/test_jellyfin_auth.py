# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)
"""The Jellyfin surface's discovery, routing rules and auth (issue 12): system info as client SDKs
require it, case-insensitive paths with /emby stripped, every credential form Jellyfin accepts,
device tokens in yaffw's one revocation scheme, and logout refused on both replicas.
"""

from __future__ import annotations

import httpx
import pytest
from yaffw_api.jellyfin.jfauth import parse_authorization
from yaffw_api.jellyfin.routing import rewrite

from tests.api_fixtures import data, http, no_login_limits, replica2  # noqa: F401
from tests.api_seed import PASSWORD, Seed

AUTH = 'MediaBrowser Client="yaffw tests", Device="pytest", DeviceId="dev-{n}", Version="1.0"'


def test_rewrite_rules() -> None:
    assert rewrite("/System/Info/Public", {}) == "/_jf/system/info/public"
    assert rewrite("/emby/Users/AuthenticateByName", {}) == "/_jf/users/authenticatebyname"
    assert rewrite("/MediaBrowser/Items", {}) == "/_jf/items"
    assert rewrite("/api/items", {}) is None
    assert rewrite("/static/app.css", {}) is None
    # The web UI's item page keeps its path for a browser, and Jellyfin clients keep theirs.
    assert rewrite("/items/abc", {"accept": "text/html"}) is None
    assert rewrite("/Items/abc", {"accept": "text/html"}) == "/_jf/items/abc"
    assert rewrite("/items/abc", {"accept": "application/json"}) == "/_jf/items/abc"
    assert rewrite("/items/abc", {"accept": "text/html", "x-emby-token": "t"}) == "/_jf/items/abc"


def test_parse_authorization_forms() -> None:
    info = parse_authorization('MediaBrowser Client="Jellyfin Web", Device="Fire%20fox", DeviceId="a,b", '
                               'Version="10.11.0", Token="tok"')  # fmt: skip
    assert (info.client, info.device, info.device_id, info.version, info.token) == (
        "Jellyfin Web", "Fire fox", "a,b", "10.11.0", "tok")  # fmt: skip
    unquoted = parse_authorization("Emby Client=Kodi, Device=TV, DeviceId=xyz, Version=1, Token=abc")
    assert unquoted is not None and (unquoted.client, unquoted.token) == ("Kodi", "abc")
    assert parse_authorization("Bearer abc") is None


async def test_public_info_as_sdks_require(api_url: str, http: httpx.AsyncClient) -> None:
    for path in ("/System/Info/Public", "/system/info/public", "/emby/system/info/public"):
        r = await http.get(api_url + path)
        assert r.status_code == 200, path
        body = r.json()
        assert body["ProductName"] == "Jellyfin Server"
        assert body["Version"].startswith("10.11.")
        assert len(body["Id"]) == 32 and body["StartupWizardCompleted"] is True
    ping = await http.get(api_url + "/System/Ping")
    assert ping.json() == "Jellyfin Server"


async def _login(http: httpx.AsyncClient, url: str, name: str, password: str, device: str) -> httpx.Response:
    return await http.post(url + "/Users/AuthenticateByName", json={"Username": name, "Pw": password},
                           headers={"Authorization": AUTH.format(n=device)})  # fmt: skip


@pytest.mark.usefixtures("no_login_limits")
async def test_login_token_forms_and_logout_on_both_replicas(
    api_url: str, replica2: str, data: Seed, http: httpx.AsyncClient
) -> None:
    r = await _login(http, api_url, "alice", PASSWORD, "1")
    assert r.status_code == 200, r.text
    body = r.json()
    token = body["AccessToken"]
    assert body["User"]["Id"] == data.users["alice"].replace("-", "")
    assert body["ServerId"] == body["User"]["ServerId"] and body["SessionInfo"]["DeviceId"] == "dev-1"
    forms = [
        ({"Authorization": AUTH.format(n="1") + f', Token="{token}"'}, ""),
        ({"X-Emby-Authorization": AUTH.format(n="1").replace("MediaBrowser", "Emby") + f", Token={token}"}, ""),
        ({"X-Emby-Token": token}, ""),
        ({"X-MediaBrowser-Token": token}, ""),
        ({}, f"?ApiKey={token}"),
        ({}, f"?api_key={token}"),
    ]
    for headers, query in forms:
        for base in (api_url, replica2):
            me = await http.get(f"{base}/Users/Me{query}", headers=headers)
            assert me.status_code == 200, (headers, query, me.text)
            assert me.json()["Name"] == "alice"
    assert (await http.get(f"{api_url}/Users/Me")).status_code == 401
    out = await http.post(f"{replica2}/Sessions/Logout", headers={"X-Emby-Token": token})
    assert out.status_code == 204
    for base in (api_url, replica2):
        assert (await http.get(f"{base}/Users/Me", headers={"X-Emby-Token": token})).status_code == 401


@pytest.mark.usefixtures("no_login_limits")
async def test_second_login_from_a_device_replaces_its_token(api_url: str, data: Seed, http: httpx.AsyncClient) -> None:
    first = (await _login(http, api_url, "alice", PASSWORD, "same")).json()["AccessToken"]
    other = (await _login(http, api_url, "alice", PASSWORD, "other")).json()["AccessToken"]
    second = (await _login(http, api_url, "alice", PASSWORD, "same")).json()["AccessToken"]
    assert (await http.get(f"{api_url}/Users/Me", headers={"X-Emby-Token": first})).status_code == 401
    for token in (other, second):
        assert (await http.get(f"{api_url}/Users/Me", headers={"X-Emby-Token": token})).status_code == 200


@pytest.mark.usefixtures("no_login_limits")
async def test_bad_logins_are_clear_4xx(api_url: str, data: Seed, http: httpx.AsyncClient) -> None:
    assert (await _login(http, api_url, "alice", "wrong", "x")).status_code == 401
    assert (await _login(http, api_url, "nobody", "wrong", "x")).status_code == 401
    bad = await http.post(api_url + "/Users/AuthenticateByName", content=b"{not json")
    assert bad.status_code == 400
    assert (await http.post(api_url + "/Users/AuthenticateByName", json={"Username": 5})).status_code == 400


async def test_yaffw_ui_and_api_paths_are_untouched(api_url: str, http: httpx.AsyncClient) -> None:
    assert (await http.get(api_url + "/healthz")).status_code == 200
    assert (await http.get(api_url + "/api/items")).status_code == 401
    page = await http.get(api_url + "/login", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<html" in page.text.lower()


@pytest.mark.usefixtures("no_login_limits")
async def test_answers_validate_against_jellyfins_document(api_url: str, data: Seed, http: httpx.AsyncClient) -> None:
    from tests import jellyfin_support as jf

    token = await jf.login(http, api_url, "alice", PASSWORD)
    headers = jf.client_headers(token=token)
    for path in ("/System/Info/Public", "/Branding/Configuration", "/QuickConnect/Enabled", "/Users/Public"):
        jf.validate(await http.get(api_url + path))
    for path in ("/System/Info", "/Users/Me", f"/Users/{data.users['alice'].replace('-', '')}", "/Users",
                 "/Sessions"):  # fmt: skip
        r = await http.get(api_url + path, headers=headers)
        assert r.status_code == 200, (path, r.text)
        jf.validate(r)
    for path in ("/Sessions/Capabilities", "/Sessions/Capabilities/Full"):
        r = await http.post(api_url + path, headers=headers, json={"PlayableMediaTypes": ["Video"]})
        assert r.status_code == 204
        jf.validate(r)


def test_rewrite_keeps_ui_search_and_htmx() -> None:
    assert rewrite("/search", {}) is None
    assert rewrite("/search", {"hx-request": "true"}) is None
    assert rewrite("/Search/Hints", {}) == "/_jf/search/hints"
    assert rewrite("/items/abc", {"hx-request": "true"}) is None


async def test_cross_origin_web_clients(api_url: str, http: httpx.AsyncClient) -> None:
    pre = await http.options(api_url + "/Users/AuthenticateByName", headers={
        "Origin": "https://web.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})  # fmt: skip
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "authorization" in pre.headers["access-control-allow-headers"].lower()
    r = await http.get(api_url + "/System/Info/Public", headers={"Origin": "https://web.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-origin" not in (await http.get(api_url + "/healthz")).headers
