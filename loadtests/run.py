"""Run the Locust load test headless against ``yaffw up`` (or a running yaffw) and summarise it.

Usage (docs/loadtest.md)::

    python loadtests/run.py --users 20 --minutes 5                  # sample library, mixed users
    python loadtests/run.py --media ~/Videos --users 10,20,40 --minutes 3 --profile browse
    python loadtests/run.py --url https://yaffw.example --users 50 --minutes 10

Without ``--url`` it starts ``yaffw up`` on a free port with a private PostgreSQL and Redis under a
temporary state folder (``--media`` or the generated sample library), waits until the first scan has
settled, and stops it at the end. ``--users`` takes one number or a comma-separated list: each is a
step, run one after the other against the same stack, with its own folder ``OUT/u<users>/`` holding
Locust's CSV (``locust_stats.csv``, ``locust_stats_history.csv``, ``locust_failures.csv``,
``locust_groups.csv``), its HTML report (``report.html``), CPU per process (``resources.csv``) and
``meta.json``. At the end it prints the summary (``summary.py``) and writes ``OUT/summary.txt``;
``plot.py OUT`` draws the graphs. Exit status: 0 when no request failed, 1 otherwise.

Weights and pacing are the locustfile's ``LOADTEST_*`` variables, taken from the environment;
``--profile`` sets the weights for the usual single-kind runs unless the environment sets them.

Foreign load: before each step the 1-minute load average must be at most ``--max-load`` (default
0.75 x the cores this process may use: 1.5 on a 2-core machine). ``run.py`` waits up to
``--quiet-wait`` seconds for it to fall (the previous step's own load decays in a minute or two) and
then refuses to run the step (exit status 2) — unless ``--allow-load``, which runs it and marks every
figure of it as taken under load (``meta.json``'s ``quiet: false``; ``LOADED`` in the summary). The
load average before the step, and its mean during the step, are printed beside every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procstats import Sampler
from summary import summarise

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
PROFILES = {  # (browse, direct, hls, app, admins)
    "mixed": (10, 3, 1, 5, 1),
    "browse": (1, 0, 0, 0, 0),
    "direct": (0, 1, 0, 0, 0),
    "hls": (0, 0, 1, 0, 0),
    "app": (0, 0, 0, 1, 0),
}
WEIGHT_VARIABLES = ("LOADTEST_WEIGHT_BROWSE", "LOADTEST_WEIGHT_DIRECT", "LOADTEST_WEIGHT_HLS", "LOADTEST_WEIGHT_APP",
                    "LOADTEST_ADMINS")  # fmt: skip
EXIT_LOADED = 2  # a step was refused: the machine was busy with something else


def cores() -> int:
    """CPUs this process may run on (the affinity mask where the platform has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return psutil.cpu_count() or 1


def default_max_load() -> float:
    """The highest 1-minute load average a step may start at: 0.75 per core (1.5 on two cores)."""
    return round(0.75 * cores(), 2)


def wait_quiet(max_load: float, wait_s: float, poll_s: float = 5.0) -> float:
    """Wait (up to ``wait_s``) until the 1-minute load average is at most ``max_load``; returns the last
    reading (above ``max_load`` when the wait ran out)."""
    deadline = time.monotonic() + wait_s
    load = psutil.getloadavg()[0]
    announced = False
    while load > max_load and time.monotonic() < deadline:
        if not announced:
            print(f"   load average {load:.2f} > {max_load}: waiting up to {wait_s:.0f} s for it to fall", flush=True)
            announced = True
        time.sleep(min(poll_s, max(0.1, deadline - time.monotonic())))
        load = psutil.getloadavg()[0]
    return load


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """``yaffw up`` in a child process, with its log in the output folder."""

    def __init__(self, args: argparse.Namespace, out: Path, admin_password: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = args.state_dir or Path(tempfile.mkdtemp(prefix="yaffw-loadtest-"))
        self.own_state = args.state_dir is None
        self.log = out / "yaffw-up.log"
        # yaffw refuses unknown YAFFW_* variables, and must not share the caller's database or Redis.
        foreign = ("YAFFW_", "S3_", "LOADTEST_")
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(foreign) and k not in ("DATABASE_URL", "REDIS_URL")
        }
        # Every process of a local stack is on 127.0.0.1; a worker must not advertise another interface
        # (its server listens on 127.0.0.1 only, so the api could not reach it there).
        env.update(YAFFW_ADMIN_PASSWORD=admin_password, YAFFW_WORKER_SESSIONS=str(args.worker_sessions),
                   YAFFW_ADVERTISE_HOST="127.0.0.1", PYTHONUNBUFFERED="1")  # fmt: skip
        cmd = [sys.executable, "-m", "yaffw.cli", "up", "--port", str(self.port), "--state-dir", str(self.state),
               "--workers", str(args.workers)]  # fmt: skip
        if args.media:
            cmd += ["--media", str(args.media)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float) -> None:
        """Until ``yaffw is ready`` is printed. :raises SystemExit: it exited or took too long."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "yaffw is ready" in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"yaffw up did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def postgres_port(self) -> int | None:
        """The private PostgreSQL's port, from the runner's log line."""
        for line in self.log.read_text(errors="replace").splitlines():
            if "private PostgreSQL on port" in line:
                return int(line.split("on port", 1)[1].split()[0])
        return None

    def stop(self) -> None:
        """SIGTERM, wait, and remove a temporary state folder."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.own_state:
            shutil.rmtree(self.state, ignore_errors=True)


def admin_password(state_dir: Path | None) -> str:
    """A new admin password; kept in a given state folder, whose database keeps the admin too."""
    if state_dir is None:
        return secrets.token_urlsafe(12)
    path = state_dir / "loadtest-admin-password"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def wait_scanned(url: str, user: str, password: str, timeout: float, quiet_s: float = 10.0) -> int:
    """Wait until the number of playable items has been > 0 and unchanged for ``quiet_s``; returns it."""
    token = httpx.post(f"{url}/api/auth/login", json={"username": user, "password": password}, timeout=60)
    if token.status_code != 200:
        raise SystemExit(f"admin login as {user!r} failed ({token.status_code}): set LOADTEST_ADMIN_PASSWORD")
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        r = httpx.get(f"{url}/api/items?type=movie,episode,video&limit=1", headers=headers, timeout=60)
        total = r.json().get("total", 0) if r.status_code == 200 else 0
        if total != last:
            last, since = total, time.monotonic()
        elif total > 0 and time.monotonic() - since >= quiet_s:
            return total
        time.sleep(1)
    raise SystemExit(f"the library did not settle in {timeout}s (items: {last})")


class Refused(Exception):
    """A step was not run: the machine's load average was above the limit (and no ``--allow-load``)."""


def scan_report(url: str, user: str, password: str) -> list[str]:
    """The activity log's scan results (how long the scans took), newest first; empty when unavailable."""
    try:
        token = httpx.post(f"{url}/api/auth/login", json={"username": user, "password": password}, timeout=60)
        headers = {"Authorization": "Bearer " + token.json()["access_token"]}
        entries = httpx.get(f"{url}/api/activity?limit=20", headers=headers, timeout=60).json().get("items", [])
    except (httpx.HTTPError, ValueError, KeyError):
        return []
    return [str(e.get("message")) for e in entries if "finished" in str(e.get("message", ""))][:3]


def run_step(args: argparse.Namespace, url: str, users: int, out: Path, env: dict[str, str],
             roots: list[int] | None, postgres_port: int | None) -> int:  # fmt: skip
    """One headless Locust run of ``users`` users; returns Locust's exit status.

    :raises Refused: the load average stayed above ``args.max_load`` and ``--allow-load`` was not given.
    """
    load = wait_quiet(args.max_load, args.quiet_wait)
    quiet = load <= args.max_load
    if not quiet and not args.allow_load:
        raise Refused(f"step u{users} refused: 1-minute load average {load:.2f} > {args.max_load} "
                      f"(0.75 x {cores()} cores) after waiting {args.quiet_wait:.0f} s; something else is "
                      "using this machine. Rerun when it is quiet, or pass --allow-load to run and mark the "
                      "figures.")  # fmt: skip
    step = out / f"u{users}"
    step.mkdir(parents=True, exist_ok=True)
    seconds = max(10, round(args.minutes * 60))
    settings = {k: v for k, v in env.items() if k.startswith("LOADTEST_") and "PASSWORD" not in k}
    meta = {"users": users, "minutes": args.minutes, "url": url, "spawn_rate": args.spawn_rate,
            "profile": args.profile, "reset_stats": args.reset_stats,
            "load_before": round(load, 2), "load_limit": args.max_load, "quiet": quiet, "cpus": cores(),
            "started": time.time(), "settings": settings}  # fmt: skip
    (step / "meta.json").write_text(json.dumps(meta, indent=2))
    target = urlparse(url).port
    sampler = Sampler(step / "resources.csv", roots=roots, postgres_port=postgres_port, target_port=target)
    sampler.start()
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url, "-u", str(users),
           "-r", str(args.spawn_rate or users), "-t", f"{seconds}s", "--stop-timeout", str(args.stop_timeout),
           "--csv", str(step / "locust"), "--html", str(step / "report.html"), "--only-summary",
           "--loglevel", "WARNING", *(["--reset-stats"] if args.reset_stats else [])]  # fmt: skip
    mark = "" if quiet else f"  ** LOADED: above {args.max_load}, figures marked **"
    print(f"-- {users} users for {seconds}s (load average before: {meta['load_before']}){mark}", flush=True)
    with (step / "locust.log").open("w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        if roots is not None:
            roots.append(proc.pid)  # Locust's own CPU is part of the picture on a small machine
        code = proc.wait()
    sampler.stop()
    return code


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = p.add_mutually_exclusive_group()
    where.add_argument("--url", help="test a running yaffw at this URL instead of starting one")
    where.add_argument("--media", type=Path, help="media folder for yaffw up (default: the generated sample)")
    p.add_argument("--users", default="10", help="users, or a comma-separated list of steps (default 10)")
    p.add_argument("--minutes", type=float, default=2.0, help="minutes per step (default 2)")
    p.add_argument("--spawn-rate", type=float, default=0, help="users started per second (default: all at once)")
    p.add_argument("--profile", choices=sorted(PROFILES), default="mixed", help="user mix (default mixed)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default loadtest-out/<time>)")
    p.add_argument("--workers", type=int, default=1, help="yaffw up: transcode workers (default 1)")
    p.add_argument("--worker-sessions", type=int, default=16, help="yaffw up: sessions per worker (default 16)")
    p.add_argument("--state-dir", type=Path, default=None, help="yaffw up: state folder (default: temporary)")
    p.add_argument("--reset-stats", action="store_true", help="drop the ramp-up (spawning) from the statistics")
    p.add_argument("--stop-timeout", type=int, default=15, help="seconds users get to stop at the end (default 15)")
    p.add_argument("--scan-timeout", type=float, default=900, help="seconds to wait for the first scan")
    p.add_argument("--settle", type=float, default=10, help="the scan has settled after this many quiet seconds")
    p.add_argument("--max-load", type=float, default=default_max_load(),
                   help=f"highest 1-minute load average a step may start at (default 0.75 x cores: "
                        f"{default_max_load()})")  # fmt: skip
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=180,
        help="seconds to wait before a step for the load average to fall below --max-load (default 180)",
    )
    p.add_argument(
        "--allow-load",
        action="store_true",
        help="run a step above --max-load anyway, marking its figures as taken under load",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start (or use) the stack, run each step, summarise."""
    args = parse_args(argv)
    steps = [int(u) for u in str(args.users).split(",") if u.strip()]
    out = (args.out or ROOT / "loadtest-out" / time.strftime("%Y%m%d-%H%M%S")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for var, weight in zip(WEIGHT_VARIABLES, PROFILES[args.profile], strict=True):
        env.setdefault(var, str(weight))
    admin = env.setdefault("LOADTEST_ADMIN_USER", "admin")
    stack = None
    if args.url:
        url, roots, pg_port = args.url.rstrip("/"), None, None
        password = env.get("LOADTEST_ADMIN_PASSWORD") or env.get("YAFFW_ADMIN_PASSWORD") or ""
    else:
        password = env.get("LOADTEST_ADMIN_PASSWORD") or admin_password(args.state_dir)
        stack = Stack(args, out, password)
    env["LOADTEST_ADMIN_PASSWORD"] = password
    env.pop("YAFFW_ADMIN_PASSWORD", None)
    failed, refused = False, None
    try:
        if stack is not None:
            print(f"starting yaffw up on {stack.url} (log: {stack.log})", flush=True)
            stack.wait_ready(timeout=600)
            url, roots, pg_port = stack.url, [stack.proc.pid], stack.postgres_port()
        print(f"waiting for the library scan to settle at {url}", flush=True)
        items = wait_scanned(url, admin, password, args.scan_timeout, args.settle)
        print(f"{items} playable items", flush=True)
        for line in scan_report(url, admin, password):
            print("   " + line, flush=True)
        for users in steps:
            try:
                code = run_step(args, url, users, out, env, list(roots) if roots is not None else None, pg_port)
            except Refused as exc:
                refused = str(exc)
                print(refused, flush=True)
                break
            failed |= code != 0
    finally:
        if stack is not None:
            stack.stop()
    text = summarise(out)
    (out / "summary.txt").write_text(text + "\n")
    print(text)
    print(f"\nresults: {out}  (graphs: python loadtests/plot.py {out})")
    if refused:
        print(refused)
        return EXIT_LOADED
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
