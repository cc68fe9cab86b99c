"""Security headers on every answer, a CSP without inline script on pages, Secure cookies over HTTPS
(issue 14). Against real api processes; the templates are also checked for inline script.
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from yaffw.settings import Settings

from tests.api_fixtures import data, http, no_login_limits  # noqa: F401
from tests.api_procs import api_process
from tests.api_seed import PASSWORD, Seed, bearer
from tests.conftest import ROOT

TEMPLATES = ROOT / "functions/api/yaffw_api/templates"


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header as ``{directive: [sources]}``."""
    out = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, *sources = part.split()
        out[name] = sources
    return out


def assert_common(r: httpx.Response) -> dict[str, list[str]]:
    assert r.headers["x-content-type-options"] == "nosniff", r.url
    assert r.headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    csp = directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"], r.url
    return csp


async def test_pages_have_a_strict_policy(api_url: str, data: Seed, settings: Settings) -> None:
    cookies = {"yaffw_token": bearer(settings, data, "root")["Authorization"][7:]}
    async with httpx.AsyncClient(base_url=api_url, cookies=cookies, timeout=30) as browser:
        paths = ("/login", "/", f"/libraries/{data.libraries['Movies']}", "/admin/users", "/no-such-page")
        answers = [await browser.get(path, headers={"accept": "text/html"}) for path in paths]
    for r in answers:
        path = r.url.path
        assert r.headers["content-type"].startswith("text/html"), (path, r.status_code)
        csp = assert_common(r)
        assert csp["script-src"] == ["'self'"], path  # no 'unsafe-inline', no 'unsafe-eval'
        assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]


async def test_json_media_and_static_answers_have_headers(http: httpx.AsyncClient, api_url: str, data: Seed,
                                                          settings: Settings) -> None:  # fmt: skip
    alice = bearer(settings, data, "alice")
    for path, headers in (("/api/users/me", alice), ("/api/items", alice), ("/api/nothing", alice),
                          ("/healthz", {}), ("/static/app.js", {}), ("/api/openapi.json", {})):  # fmt: skip
        r = await http.get(api_url + path, headers=headers)
        csp = assert_common(r)
        if not r.headers["content-type"].startswith("text/html"):
            assert csp["default-src"] == ["'none'"], path


def test_templates_have_no_inline_script() -> None:
    """The pages' CSP forbids inline script: no <script> without src, no on…= handler, no hx-on
    (htmx evaluates it as code)."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text, re.IGNORECASE):
            assert " src=" in tag, (template.name, tag)
        assert not re.search(r"\son[a-z]+\s*=", text, re.IGNORECASE), template.name
        assert not re.search(r"\shx-on", text), template.name
        assert "javascript:" not in text.lower(), template.name


@pytest.mark.usefixtures("no_login_limits")
async def test_cookies_are_secure_over_https(settings: Settings, _scratch: Path, data: Seed) -> None:
    proxy, stranger = "127.0.0.60", "127.0.0.61"
    with api_process(settings.replace(trusted_proxies=(proxy,)), _scratch / "api-secure-cookies.log") as url:

        async def cookies(address: str, proto: str | None) -> list[str]:
            transport = httpx.AsyncHTTPTransport(local_address=address)
            async with httpx.AsyncClient(transport=transport, timeout=30) as c:
                headers = {"X-Forwarded-Proto": proto} if proto else {}
                r = await c.post(f"{url}/api/auth/login", json={"username": "alice", "password": PASSWORD},
                                 headers=headers)  # fmt: skip
                assert r.status_code == 200, r.text
                return r.headers.get_list("set-cookie")

        over_https = await cookies(proxy, "https")
        assert len(over_https) == 2 and all("; Secure" in c or c.endswith("Secure") for c in over_https)
        assert not any("Secure" in c for c in await cookies(proxy, "http"))
        # Only a trusted proxy may say the client used HTTPS.
        assert not any("Secure" in c for c in await cookies(stranger, "https"))
