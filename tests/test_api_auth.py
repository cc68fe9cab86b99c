"""Login, logout, revocation across two replicas, CSRF, admin vs user (rate limits: test_login_limits)."""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import asyncpg
import httpx
import pytest
from yaffw.settings import Settings

from tests.api_fixtures import data, http, no_login_limits, replica2  # noqa: F401
from tests.api_seed import PASSWORD, Seed, bearer

pytestmark = pytest.mark.usefixtures("no_login_limits")


async def login(http: httpx.AsyncClient, url: str, name: str, password: str = PASSWORD) -> httpx.Response:
    return await http.post(f"{url}/api/auth/login", json={"username": name, "password": password})


async def test_login_answers_token_and_sets_cookies(http: httpx.AsyncClient, api_url: str, data: Seed,
                                                    pool: asyncpg.Pool) -> None:  # fmt: skip
    r = await login(http, api_url, "Alice")  # names are case-insensitive
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["user"]["name"] == "alice" and body["user"]["library_ids"]
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("yaffw_token="))
    assert "HttpOnly" in session and "SameSite=Lax" in session
    assert any(c.startswith("yaffw_csrf=") for c in cookies)
    me = await http.get(f"{api_url}/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == data.users["alice"]
    types = [r["type"] for r in await pool.fetch("SELECT type FROM activity_log WHERE user_id = $1",
                                                  data.users["alice"])]  # fmt: skip
    assert "login" in types


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b'{"username": 5, "password": "x"}', b'{"username": "a"}',
             b'{"username": "a\\u0000b", "password": "x"}', b'{"username": "\\ud800", "password": "x"}',
             b"[" * 100000],
)  # fmt: skip
async def test_login_malformed_is_400(http: httpx.AsyncClient, api_url: str, body: bytes) -> None:
    r = await http.post(f"{api_url}/api/auth/login", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad_input"


async def test_wrong_password_is_401_and_logged(http: httpx.AsyncClient, api_url: str, data: Seed,
                                                pool: asyncpg.Pool) -> None:  # fmt: skip
    for name in ("alice", "nobody"):
        r = await login(http, api_url, name, "wrong")
        assert r.status_code == 401 and r.json()["error"]["code"] == "bad_credentials"
    rows = await pool.fetch("SELECT severity, data FROM activity_log WHERE type = 'login.failed' ORDER BY id")
    assert [r["data"]["name"] for r in rows] == ["alice", "nobody"] and rows[0]["severity"] == "warning"


async def test_logout_revokes_on_both_replicas(http: httpx.AsyncClient, api_url: str, replica2: str,
                                               data: Seed) -> None:  # fmt: skip
    token = (await login(http, api_url, "alice")).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for url in (api_url, replica2):
        assert (await http.get(f"{url}/api/users/me", headers=auth)).status_code == 200
    assert (await http.post(f"{replica2}/api/auth/logout", headers=auth)).status_code == 204
    for url in (api_url, replica2):
        r = await http.get(f"{url}/api/users/me", headers=auth)
        assert r.status_code == 401 and r.json()["error"]["code"] == "token_revoked"


@pytest.mark.parametrize("change", ["disable", "delete", "password"])
async def test_user_changes_revoke_everywhere(http: httpx.AsyncClient, api_url: str, replica2: str, data: Seed,
                                              settings: Settings, change: str) -> None:  # fmt: skip
    token = (await login(http, api_url, "alice")).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    admin = bearer(settings, data, "root")
    target = f"{api_url}/api/users/{data.users['alice']}"
    if change == "disable":
        r = await http.patch(target, json={"is_disabled": True}, headers=admin)
    elif change == "delete":
        r = await http.delete(target, headers=admin)
    else:
        r = await http.patch(target, json={"password": "new one"}, headers=admin)
    assert r.status_code in (200, 204), r.text
    for url in (api_url, replica2):
        assert (await http.get(f"{url}/api/users/me", headers=auth)).status_code == 401
    if change == "password":
        assert (await login(http, replica2, "alice", "new one")).status_code == 200
    if change == "disable":
        assert (await login(http, replica2, "alice")).status_code == 403


async def test_csrf_guard_for_cookie_sessions(api_url: str, data: Seed) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as browser:
        r = await login(browser, api_url, "alice")
        csrf = browser.cookies["yaffw_csrf"]
        put = f"/api/items/{data.items['big']}/userdata"
        r = await browser.put(put, json={"favorite": True})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
        r = await browser.put(put, json={"favorite": True}, headers={"X-CSRF-Token": "0" * 64})
        assert r.status_code == 403
        r = await browser.put(put, json={"favorite": True}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["favorite"] is True
        assert (await browser.get("/api/users/me")).status_code == 200  # reads need no token
        token = r.request.headers.get("cookie", "")
        assert "yaffw_token" in token
        # Bearer clients are exempt.
        bearer_token = browser.cookies["yaffw_token"]
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as api:
        r = await api.put(put, json={"favorite": False}, headers={"Authorization": f"Bearer {bearer_token}"})
        assert r.status_code == 200


async def test_admin_routes_refuse_users(http: httpx.AsyncClient, api_url: str, data: Seed,
                                         settings: Settings) -> None:  # fmt: skip
    alice = bearer(settings, data, "alice")
    for method, path, body in (
        ("GET", "/api/users", None), ("POST", "/api/users", {"name": "x", "password": "y"}),
        ("PATCH", f"/api/users/{data.users['bob']}", {"is_admin": True}),
        ("DELETE", f"/api/users/{data.users['bob']}", None), ("GET", "/api/activity", None),
        ("POST", "/api/libraries", {"name": "x", "kind": "movies", "paths": ["/x"]}),
        ("POST", f"/api/libraries/{data.libraries['Movies']}/scan", {}),
    ):  # fmt: skip
        r = await http.request(method, api_url + path, json=body, headers=alice)
        assert r.status_code == 403, (method, path, r.text)
        assert (await http.request(method, api_url + path, json=body)).status_code == 401


async def test_admin_manages_users(http: httpx.AsyncClient, api_url: str, data: Seed, settings: Settings) -> None:
    admin = bearer(settings, data, "root")
    r = await http.post(f"{api_url}/api/users", headers=admin,
                        json={"name": "carol", "password": "pw", "library_ids": [data.libraries["Shows"]]})  # fmt: skip
    assert r.status_code == 201, r.text
    carol = r.json()
    assert carol["library_ids"] == [data.libraries["Shows"]] and not carol["is_admin"]
    r = await http.patch(f"{api_url}/api/users/{carol['id']}", headers=admin,
                         json={"library_ids": [data.libraries["Movies"], data.libraries["Shows"]]})  # fmt: skip
    assert sorted(r.json()["library_ids"]) == sorted([data.libraries["Movies"], data.libraries["Shows"]])
    listed = (await http.get(f"{api_url}/api/users", headers=admin)).json()
    assert listed["total"] == 4 and {u["name"] for u in listed["items"]} >= {"carol", "root"}
    for bad in ({"name": ""}, {"is_admin": "yes"}, {"library_ids": ["x"]}, {"color": "red"}, {"password": 5}):
        r = await http.patch(f"{api_url}/api/users/{carol['id']}", headers=admin, json=bad)
        assert r.status_code == 400, (bad, r.text)
    assert (await http.post(f"{api_url}/api/users", headers=admin,
                            json={"name": "CAROL", "password": "x"})).status_code == 409  # fmt: skip
    r = await http.patch(f"{api_url}/api/users/{data.users['root']}", headers=admin, json={"is_disabled": True})
    assert r.status_code == 409  # the last administrator stays
    for bad_id in ("nope", "../../etc", "00000000-0000-0000-0000-000000000000"):
        assert (await http.delete(f"{api_url}/api/users/{bad_id}", headers=admin)).status_code == 404
    log = (await http.get(f"{api_url}/api/activity?limit=5", headers=admin)).json()
    assert log["items"][0]["type"] == "user.updated" and log["total"] >= 2
    for q in ("limit=0", "limit=9999", "offset=-1", "offset=x"):
        assert (await http.get(f"{api_url}/api/activity?{q}", headers=admin)).status_code == 400
