"""``yaffw up``: the whole stack on one machine (DESIGN §1, "locally").

Uses DATABASE_URL / REDIS_URL / S3_* when set; otherwise starts private PostgreSQL and Redis under
the state directory and keeps images in a directory store. Then migrates, creates the first admin and
a library (for ``--media`` or a generated sample), starts the dispatcher, the tick timer, two api
replicas, scan, lease-reaper and the transcode worker(s) as child processes, waits until each is
ready, requests a scan, and prints the URL. SIGTERM or Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg

from yaffw import events
from yaffw.errors import YaffwError
from yaffw.keys import Keys
from yaffw.local_services import PrivatePostgres, PrivateRedis, free_port
from yaffw.logs import configure
from yaffw.migrations import migrate
from yaffw.redis_client import async_client
from yaffw.settings import Settings
from yaffw.supervisor import Child, Supervisor

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``up`` to the CLI."""
    p = sub.add_parser("up", help="start the whole stack locally")
    p.add_argument("--media", type=Path, default=None, help="media folder (default: a generated sample library)")
    p.add_argument("--port", type=int, default=8096, help="the api's port (the URL you open)")
    p.add_argument("--host", default="127.0.0.1", help="the api's listen address (default: this machine only)")
    p.add_argument("--state-dir", type=Path, default=None, help="where private servers keep data")
    p.add_argument("--workers", type=int, default=1, help="transcode worker processes")
    p.add_argument("--tick", type=float, default=15.0, help="seconds between lease-reaper ticks")
    p.add_argument("--no-scan", action="store_true", help="do not scan the library at start")
    p.set_defaults(run=run)


async def _ensure_database(admin_dsn: str, name: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunparse(urlparse(admin_dsn)._replace(path="/" + name))


async def _ensure_admin(dsn: str, name: str, password: str | None) -> tuple[str | None, str | None]:
    """Create the first admin if none exists. Returns the password when it was generated here, and
    a warning when ``YAFFW_ADMIN_PASSWORD`` was given but cannot log in (an admin already existed)."""
    from yaffw.users import ensure_admin

    generated = None
    if password is None:
        generated = password = secrets.token_urlsafe(12)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    try:
        created = await ensure_admin(pool, name, password)
        warning = None if created or generated else await admin_password_warning(pool, name, password)
    finally:
        await pool.close()
    return (generated if created else None), warning


async def admin_password_warning(pool: asyncpg.Pool, name: str, password: str) -> str | None:
    """Why ``name``/``password`` (from YAFFW_ADMIN_USER/_PASSWORD) will not log in as an administrator,
    or None when they will. The existing admin's password is never overwritten from the environment:
    a variable left in a shell profile must not silently reset it at every start."""
    from yaffw.passwords import verify_password

    row = await pool.fetchrow("SELECT name, password_hash, is_admin, is_disabled FROM users WHERE lower(name) = "
                              "lower($1)", name)  # fmt: skip
    if row is None or not row["is_admin"] or row["is_disabled"]:
        admins = [r["name"] for r in await pool.fetch("SELECT name FROM users WHERE is_admin AND NOT is_disabled")]
        return (f"YAFFW_ADMIN_PASSWORD is set, but {name!r} is not an administrator here and one already exists "
                f"({', '.join(admins)}): nothing was created or changed. Log in as that administrator.")  # fmt: skip
    loop = asyncio.get_running_loop()
    if await loop.run_in_executor(None, verify_password, password, row["password_hash"]):
        return None
    return (f"YAFFW_ADMIN_PASSWORD does not match the password of the existing administrator {row['name']!r}; "
            "it was NOT changed and will not log in. Use the old password (and change it in the UI), or "
            "start with a new --state-dir for a fresh installation.")  # fmt: skip


async def _ensure_libraries(dsn: str, media: Path, sample: bool) -> list[str]:
    """The libraries to scan at start: Movies + Shows for the sample, one mixed library otherwise."""
    wanted = (
        [("Movies", "movies", media / "movies"), ("Shows", "shows", media / "shows")]
        if sample
        else [(media.name or "Media", "mixed", media)]
    )
    conn = await asyncpg.connect(dsn)
    try:
        ids = []
        for name, kind, path in wanted:
            row = await conn.fetchrow("SELECT id FROM libraries WHERE $1 = ANY(paths)", str(path))
            for candidate in (name, f"{name} ({path})"):
                if row is not None:
                    break
                # A library of that name may exist for another folder: then name it by its path.
                row = await conn.fetchrow(
                    "INSERT INTO libraries (name, kind, paths) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
                    candidate, kind, [str(path)],
                )  # fmt: skip
            if row is not None:
                ids.append(str(row["id"]))
        return ids
    finally:
        await conn.close()


async def _request_scans(settings: Settings, library_ids: list[str]) -> None:
    redis = async_client(settings.redis_url)
    try:
        for library_id in library_ids:
            event = events.build(events.SCAN_REQUESTED, "/yaffw/up", {"library_id": library_id})
            await events.publish(redis, Keys(settings.redis_prefix).events, event)
    finally:
        await redis.aclose()


def _children(settings: Settings, args: argparse.Namespace, logs: Path) -> list[Child]:
    py = sys.executable
    api_ports = [args.port, free_port()]
    scan_port, reaper_port = free_port(), free_port()
    targets = {
        "yaffw-api": f"http://127.0.0.1:{api_ports[0]}",
        "yaffw-scan": f"http://127.0.0.1:{scan_port}",
        "yaffw-lease-reaper": f"http://127.0.0.1:{reaper_port}",
    }
    # Local workers are reached on loopback, not on the machine's default-route address. No load
    # balancer needs time to take a stopping api replica out here, so the api stops without delay.
    base = settings.replace(dispatch_targets=targets, advertise_host=settings.advertise_host or "127.0.0.1",
                            shutdown_delay_seconds=0)  # fmt: skip

    def child(name: str, argv: list[str], port: int | None, host: str = "127.0.0.1") -> Child:
        env = _inherited_env()
        env.update(base.replace(port=port or base.port, host=host).to_env())
        return Child(name, argv, env, logs / f"{name}.log", f"http://127.0.0.1:{port}" if port else None)

    children = [
        # Only the user's URL may listen beyond loopback, and only when --host says so.
        child("api-1", [py, str(ROOT / "functions/api/main.py")], api_ports[0], host=args.host),
        child("api-2", [py, str(ROOT / "functions/api/main.py")], api_ports[1]),
        child("scan", [py, "-m", "yaffw.cli", "function", "scan"], scan_port),
        child("lease-reaper", [py, "-m", "yaffw.cli", "function", "lease-reaper"], reaper_port),
    ]
    for n in range(args.workers):
        port = free_port()
        children.append(child(f"transcode-{n + 1}", [py, str(ROOT / "functions/transcode/main.py")], port))
    children.append(child("dispatch", [py, "-m", "yaffw.cli", "dispatch", "--consumer", "local"], None))
    children.append(child("tick", [py, "-m", "yaffw.cli", "tick", "--every", str(args.tick)], None))
    return children


def _inherited_env() -> dict[str, str]:
    # Children get PATH and friends, but their yaffw configuration only from Settings.to_env().
    return {k: v for k, v in os.environ.items() if not k.startswith(("YAFFW_", "S3_")) and k not in
            ("DATABASE_URL", "REDIS_URL", "PORT")}  # fmt: skip


def run(args: argparse.Namespace) -> int:
    """Start everything, print the URL, wait for SIGTERM/Ctrl-C, stop everything."""
    settings = Settings.from_env()
    configure(settings.log_level, name="up")
    state = (args.state_dir or settings.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    logs = state / "logs"
    logs.mkdir(exist_ok=True)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    private: list[PrivatePostgres | PrivateRedis] = []
    supervisor: Supervisor | None = None
    try:
        if not settings.database_url:
            pg = PrivatePostgres(state / "postgres", free_port())
            private.append(pg)  # before start(): a signal mid-start must still stop it
            pg.start()
            settings = settings.replace(database_url=asyncio.run(_ensure_database(pg.dsn, "yaffw")))
            log.info("private PostgreSQL on port %d (data in %s)", pg.port, pg.datadir)
        if not settings.redis_url:
            rd = PrivateRedis(state / "redis", free_port())
            private.append(rd)
            rd.start()
            settings = settings.replace(redis_url=rd.url)
            log.info("private Redis on port %d", rd.port)
        if not settings.jwt_secret:
            secret_file = state / "jwt_secret"
            if not secret_file.exists():
                secret_file.write_text(secrets.token_urlsafe(48))
                secret_file.chmod(0o600)
            settings = settings.replace(jwt_secret=secret_file.read_text().strip())
        if not settings.s3_enabled and settings.image_dir is None:
            settings = settings.replace(image_dir=state / "images")
        if settings.scratch_dir == Settings().scratch_dir:
            # One scratch folder per state dir, so two local stacks never share segments.
            tag = hashlib.sha256(str(state).encode()).hexdigest()[:8]
            settings = settings.replace(scratch_dir=Path("/dev/shm") / f"yaffw-{tag}")
        if args.media is None:
            from yaffw import sample

            media = state / "sample"
            log.info("generating the sample library in %s", media)
            sample.generate(media)
            is_sample = True
        else:
            media, is_sample = args.media.resolve(), False
        settings = settings.replace(media_roots=(*settings.media_roots, media))

        applied = asyncio.run(migrate(settings.database_url or ""))
        log.info("migrations applied: %s", ", ".join(applied) or "none pending")
        dsn = settings.database_url or ""
        generated, admin_warning = asyncio.run(_ensure_admin(dsn, settings.admin_user, settings.admin_password))
        if admin_warning:
            log.warning("%s", admin_warning)
        library_ids = asyncio.run(_ensure_libraries(dsn, media, is_sample))

        supervisor = Supervisor(_children(settings, args, logs))
        supervisor.start_all()
        supervisor.wait_ready()
        if not args.no_scan:
            asyncio.run(_request_scans(settings, library_ids))

        print("\nyaffw is ready", flush=True)
        for c in supervisor.children:
            if c.url:
                print(f"  {c.name}: {c.url}", flush=True)
        print(f"\nOpen http://127.0.0.1:{args.port}/ and log in as {settings.admin_user}", flush=True)
        if args.host != "127.0.0.1":
            print(f"  (listening on {args.host}: reachable from other machines)", flush=True)
        if generated:
            print(f"  generated admin password (shown once): {generated}", flush=True)
        elif admin_warning:
            print(f"  WARNING: {admin_warning}", flush=True)
        elif settings.admin_password is None:
            print("  (admin already exists; use its password)", flush=True)
        print(f"Logs: {logs}", flush=True)
        while not stopping:
            supervisor.watch_once()
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except (RuntimeError, YaffwError) as exc:
        log.error("%s", exc)
        return 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if supervisor is not None:
            supervisor.stop_all()
        for service in reversed(private):
            service.stop()
        log.info("stopped")
    return 0
