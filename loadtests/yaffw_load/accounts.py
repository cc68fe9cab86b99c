"""Before the test: the admin makes sure the load-test accounts exist and see every library."""

from __future__ import annotations

import logging

import requests

from yaffw_load import options
from yaffw_load.client import ACCOUNT_PREFIX, account_name

log = logging.getLogger(__name__)


class SetupError(RuntimeError):
    """The stack is not usable for a load test (admin login or account set-up failed)."""


def ensure(host: str, opts: options.Options) -> int:
    """Create the missing ones of ``opts.accounts`` accounts (and give every one every library).

    :raises SetupError: the admin cannot log in or an account cannot be made.
    """
    http = requests.Session()
    r = http.post(f"{host}/api/auth/login", json={"username": opts.admin_user, "password": opts.admin_password},
                  timeout=60)  # fmt: skip
    if r.status_code != 200:
        raise SetupError(f"admin login as {opts.admin_user!r} failed: {r.status_code} {r.text[:200]} "
                         "(set LOADTEST_ADMIN_PASSWORD or YAFFW_ADMIN_PASSWORD)")  # fmt: skip
    http.headers["Authorization"] = "Bearer " + r.json()["access_token"]
    library_ids = [lib["id"] for lib in http.get(f"{host}/api/libraries", timeout=60).json()["items"]]
    existing = {u["name"]: u for u in http.get(f"{host}/api/users", timeout=60).json()["items"]
                if u["name"].startswith(ACCOUNT_PREFIX)}  # fmt: skip
    for n in range(opts.accounts):
        name = account_name(n)
        if name in existing:
            # Kept as it is (a password change would hash again and revoke tokens): only its libraries
            # follow the library list. A changed LOADTEST_ACCOUNT_PASSWORD shows as failed logins.
            if sorted(existing[name].get("library_ids") or []) != sorted(library_ids):
                r = http.patch(
                    f"{host}/api/users/{existing[name]['id']}", json={"library_ids": library_ids}, timeout=60
                )
            else:
                continue
        else:
            body = {"name": name, "password": opts.account_password, "library_ids": library_ids}
            r = http.post(f"{host}/api/users", json=body, timeout=60)
        if r.status_code not in (200, 201):
            raise SetupError(f"account {name}: {r.status_code} {r.text[:200]}")
    log.info("%d load-test accounts ready, each seeing %d libraries", opts.accounts, len(library_ids))
    return opts.accounts
