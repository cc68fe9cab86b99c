"""Login limits (issue 14): counted before the hash check, per name and client, never a lockout of
the owner; the client address taken from X-Forwarded-For only when a trusted proxy sent it.

Each test runs its own api process (real PostgreSQL and Redis) with a low limit. Clients are told
apart by binding to different loopback addresses (127.0.0.0/8 is all local on Linux).
"""
# ruff: noqa: F811  (pytest fixtures imported from tests.api_fixtures are redefined as arguments)

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest
from yaffw.settings import Settings
from yaffw_api.client_address import resolve

from tests.api_fixtures import data, no_login_limits  # noqa: F401
from tests.api_procs import api_process
from tests.api_seed import PASSWORD, Seed

pytestmark = pytest.mark.usefixtures("no_login_limits")

LIMIT = 3


def client(address: str) -> httpx.AsyncClient:
    """An HTTP client whose requests come from ``address`` (a loopback address)."""
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=60)


async def login(c: httpx.AsyncClient, url: str, name: str, password: str = PASSWORD,
                headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    return await c.post(f"{url}/api/auth/login", json={"username": name, "password": password}, headers=headers)


async def test_concurrent_guesses_cannot_pass_the_limit(settings: Settings, _scratch: Path, data: Seed) -> None:
    """Fifty wrong guesses at once: at most LIMIT reach the password check (401), the rest are 429."""
    with api_process(settings.replace(login_attempts=LIMIT), _scratch / "api-login-race.log") as url:
        async with client("127.0.0.40") as c:
            answers = await asyncio.gather(*(login(c, url, "bob", f"guess {n}") for n in range(50)))
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= LIMIT, statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1 and refused.json()["error"]["code"] == "rate_limited"


async def test_flood_from_one_client_does_not_lock_the_owner_out(settings: Settings, _scratch: Path,
                                                                 data: Seed) -> None:  # fmt: skip
    with api_process(settings.replace(login_attempts=LIMIT), _scratch / "api-login-flood.log") as url:
        async with client("127.0.0.41") as attacker:
            statuses = [(await login(attacker, url, "bob", f"guess {n}")).status_code for n in range(20)]
            assert statuses[:LIMIT] == [401] * LIMIT and set(statuses[LIMIT:]) == {429}
            # The attacking client is slowed down for that name even with the right password...
            slowed = await login(attacker, url, "bob")
            assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1
        # ...but the owner, from a client without failures, gets in at once, and so does anyone else.
        async with client("127.0.0.42") as owner:
            assert (await login(owner, url, "bob")).status_code == 200
            assert (await login(owner, url, "alice")).status_code == 200
            # A right password is not a failure: logging in again and again never trips the limit.
            for _ in range(LIMIT + 2):
                assert (await login(owner, url, "bob")).status_code == 200


async def test_a_client_spraying_names_is_slowed(settings: Settings, _scratch: Path, data: Seed) -> None:
    """One try per name never trips the per-name counter; the per-client one (3 x limit) does."""
    with api_process(settings.replace(login_attempts=LIMIT), _scratch / "api-login-spray.log") as url:
        async with client("127.0.0.43") as sprayer:
            statuses = [(await login(sprayer, url, f"user{n}", "x")).status_code for n in range(3 * LIMIT)]
            assert set(statuses) == {401}
            assert (await login(sprayer, url, "alice")).status_code == 429
        async with client("127.0.0.44") as other:
            assert (await login(other, url, "alice")).status_code == 200


async def test_forwarded_for_only_from_trusted_proxies(settings: Settings, _scratch: Path, data: Seed,
                                                       pool: asyncpg.Pool) -> None:  # fmt: skip
    proxy, stranger = "127.0.0.50", "127.0.0.51"
    configured = settings.replace(login_attempts=LIMIT, trusted_proxies=(f"{proxy}/32", "10.0.0.0/8"))
    with api_process(configured, _scratch / "api-login-proxy.log") as url:
        async with client(proxy) as via_proxy:
            # Behind the proxy, two users at different addresses are two clients: one's flood does
            # not slow the other down. The client forges an entry; the proxy appended the real one,
            # and a second trusted hop (10.1.2.3) sits between them.
            forged = {"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.1.2.3"}
            for n in range(LIMIT + 2):
                await login(via_proxy, url, "bob", f"guess {n}", headers=forged)
            assert (await login(via_proxy, url, "bob", headers=forged)).status_code == 429
            assert (await login(via_proxy, url, "bob", headers={"X-Forwarded-For": "203.0.113.9"})).status_code == 200
        async with client(stranger) as direct:
            # Not a trusted proxy: its X-Forwarded-For is ignored, the failures count for its own address.
            for n in range(LIMIT):
                await login(direct, url, "alice", f"guess {n}", headers={"X-Forwarded-For": f"192.0.2.{n}"})
            assert (await login(direct, url, "alice", headers={"X-Forwarded-For": "192.0.2.99"})).status_code == 429
    clients = {r["client"] for r in await pool.fetch(
        "SELECT data->>'client' AS client FROM activity_log WHERE type = 'login.failed'")}  # fmt: skip
    assert clients == {"198.51.100.7", stranger}


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("127.0.0.9", ["1.2.3.4"], "127.0.0.9"),  # untrusted peer: header ignored
        ("10.0.0.1", ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.1", ["6.6.6.6, 1.2.3.4, 10.9.9.9"], "1.2.3.4"),  # trusted hops skipped from the right
        ("10.0.0.1", ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # several header lines are one list
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["10.0.0.7"], "10.0.0.7"),  # only proxies: the leftmost
        ("10.0.0.1", ["1.2.3.4, garbage"], "10.0.0.1"),  # junk: the requests stay with the proxy
        ("10.0.0.1", ["[2001:db8::1]:4711"], "2001:db8::1"),
        ("10.0.0.1", ["1.2.3.4:5678"], "1.2.3.4"),
        ("::ffff:10.0.0.1", ["1.2.3.4"], "1.2.3.4"),  # IPv4 peer on an IPv6 socket
    ],
)  # fmt: skip
def test_resolve(peer: str, header: list[str], expected: str) -> None:
    assert resolve(peer, header, ("10.0.0.0/8",)) == expected
