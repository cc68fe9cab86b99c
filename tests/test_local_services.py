"""`yaffw up`'s private PostgreSQL and Redis are safe on a shared machine (issue 14): a password over
TCP, kept in a 0600 file in the state folder and never on a command line; PostgreSQL keeps fsync on
unless asked; the api listens on 127.0.0.1 unless ``--host`` says otherwise.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest
import redis
from yaffw.cli import build_parser
from yaffw.local_services import PrivatePostgres, PrivateRedis, free_port
from yaffw.runner import _children, admin_password_warning
from yaffw.settings import Settings


@pytest.fixture(scope="module")
def private_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    # /tmp/pytest-of-root is 0700: as root the cluster then lives in postgres's home (tag of datadir).
    state = tmp_path_factory.mktemp("state")
    pg = PrivatePostgres(state / "postgres", free_port()).start()
    yield pg
    pg.stop()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _cmdlines() -> str:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        out.append(" ".join(p.info["cmdline"] or []))
    return "\n".join(out)


def test_postgres_requires_the_password_and_keeps_fsync(private_pg: PrivatePostgres) -> None:
    assert private_pg.password_file is not None and _mode(private_pg.password_file) == 0o600
    assert private_pg.password_file.parent.name.startswith("state")  # the state folder, not the cluster's

    async def check() -> None:
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
            await asyncpg.connect(f"postgresql://{private_pg.user}@127.0.0.1:{private_pg.port}/postgres")
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(f"postgresql://{private_pg.user}:guess@127.0.0.1:{private_pg.port}/postgres")
        conn = await asyncpg.connect(private_pg.dsn)
        try:
            assert await conn.fetchval("SHOW fsync") == "on"
            assert await conn.fetchval("SHOW listen_addresses") == "127.0.0.1"
        finally:
            await conn.close()

    asyncio.run(check())
    assert private_pg.password not in _cmdlines()


def test_postgres_fsync_off_only_when_asked(tmp_path_factory: pytest.TempPathFactory) -> None:
    pg = PrivatePostgres(tmp_path_factory.mktemp("state") / "postgres", free_port(), fsync=False).start()
    try:

        async def fsync() -> str:
            conn = await asyncpg.connect(pg.dsn)
            try:
                return await conn.fetchval("SHOW fsync")
            finally:
                await conn.close()

        assert asyncio.run(fsync()) == "off"
    finally:
        pg.stop()


def test_redis_requires_the_password(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path / "redis", free_port()).start()
    try:
        assert server.password_file == tmp_path / "redis.password" and _mode(server.password_file) == 0o600
        assert _mode(tmp_path / "redis" / "redis.conf") == 0o600
        anonymous = redis.Redis(host="127.0.0.1", port=server.port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        anonymous.close()
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
        assert server.password not in _cmdlines()
    finally:
        server.stop()
    # The same state folder keeps the same password.
    again = PrivateRedis(tmp_path / "redis", free_port())
    assert again.password == server.password


def test_up_listens_on_loopback_unless_told(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql://x@h/d", redis_url="redis://h", jwt_secret="s")
    for argv, host in ((["up"], "127.0.0.1"), (["up", "--host", "0.0.0.0"], "0.0.0.0")):
        args = build_parser().parse_args(argv)
        children = {c.name: c for c in _children(settings, args, tmp_path)}
        assert children["api-1"].env["YAFFW_HOST"] == host
        assert all(c.env["YAFFW_HOST"] == "127.0.0.1" for name, c in children.items() if name != "api-1")


async def test_admin_password_that_cannot_log_in_is_reported(clean_db: asyncpg.Pool) -> None:
    from yaffw.users import insert

    await insert(clean_db, "boss", "old password", is_admin=True)
    await insert(clean_db, "kid", "kid password")
    assert await admin_password_warning(clean_db, "Boss", "old password") is None
    warning = await admin_password_warning(clean_db, "boss", "new password")
    assert warning and "does not match" in warning and "NOT changed" in warning
    warning = await admin_password_warning(clean_db, "kid", "kid password")
    assert warning and "not an administrator" in warning and "boss" in warning
    assert await admin_password_warning(clean_db, "nobody", "x")
