"""What dominates a py-spy profile: ``python loadtests/pyspy_top.py PROFILE.txt [--top 25]``.

``PROFILE.txt`` is ``py-spy record --format raw`` output (collapsed stacks: ``frame;frame;... count``).
Prints the share of samples per area (the package or module a sample's innermost *known* frame belongs
to: the event loop, Sanic, asyncpg, JSON, yaffw's Jellyfin adapter, yaffw's own api code...), the
functions with the most samples on top of the stack (self time), and those present in the most stacks
(inclusive time), each as a percentage of all samples.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# (area, pattern on "function (file:line)"), first match from the innermost frame outwards wins.
AREAS: tuple[tuple[str, str], ...] = (
    # A sample whose innermost Python frame is Sanic's loop runner is inside uvloop's C code: socket
    # reads and writes, epoll, callbacks' C parts (idle waits are left out by py-spy without --idle).
    ("event loop in C (uvloop: sockets, epoll)", r"^_run_server_forever "),
    # A thread-pool thread blocked on its queue (waiting for work, not using CPU) that py-spy still sampled.
    ("thread pool idle (waiting for work)", r"^_worker \(concurrent/futures/thread\.py:81\)"),
    ("file reads (image store, in threads)", r"storage\.py|pathlib"),
    ("PBKDF2 (login)", r"pbkdf2|passwords\.py"),
    ("asyncpg (PostgreSQL driver)", r"asyncpg"),
    ("redis client", r"redis"),
    ("JSON encode/decode", r"json|orjson|ujson"),
    ("image resize (Pillow)", r"PIL|Image\.py"),
    ("JWT / auth", r"jwt|jfauth|auth\.py|tokens\.py"),
    ("yaffw Jellyfin adapter", r"yaffw_api/jellyfin"),
    ("yaffw api (routes, queries)", r"yaffw_api|yaffw/"),
    ("Sanic (HTTP, routing)", r"sanic|httptools"),
    ("event loop (uvloop/asyncio)", r"uvloop|asyncio|selectors"),
)


def parse(path: Path) -> Counter[tuple[str, ...]]:
    """Stacks (outermost frame first) and their sample counts."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        head, _, count = line.rpartition(" ")
        if head and count.isdigit():
            stacks[tuple(head.split(";"))] += int(count)
    return stacks


def area_of(stack: tuple[str, ...]) -> str:
    """The area of the innermost frame that matches one of :data:`AREAS`."""
    for frame in reversed(stack):
        for area, pattern in AREAS:
            if re.search(pattern, frame):
                return area
    return "other"


def report(stacks: Counter[tuple[str, ...]], top: int) -> str:
    """The three tables as text."""
    total = sum(stacks.values()) or 1
    areas: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for stack, n in stacks.items():
        areas[area_of(stack)] += n
        if stack:
            leaf[stack[-1]] += n
        for frame in set(stack):
            inclusive[frame] += n
    lines = [f"{total} samples", "", "by area (innermost matching frame):"]
    lines += [f"  {100 * n / total:5.1f}%  {a}" for a, n in areas.most_common()]
    lines += ["", f"top {top} by self samples:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in leaf.most_common(top)]
    lines += ["", f"top {top} by inclusive samples:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """CLI."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("profile", type=Path, help="py-spy record --format raw output")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    print(report(parse(args.profile), args.top))


if __name__ == "__main__":
    main()
