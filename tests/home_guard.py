"""The test run never touches the user's real yaffw state (issue 14).

``Settings.state_dir`` defaults to ``~/.local/state/yaffw``: any process of the run that builds
settings without a state folder (a function started with a partial environment, an in-process
``Settings()``, ``yaffw up`` without ``--state-dir``) would create or use the user's real one, and
one run once left a private PostgreSQL there with an admin whose password nobody knew. So
:func:`isolate` points ``HOME`` at a scratch folder for the whole run, which every process the
run starts inherits; caches stay where they were (``XDG_CACHE_HOME`` is pinned to the real one, so
the generated sample media and Playwright's browsers are still found). :func:`check` fails the run
if the real state folder appeared, or got new entries, during the run anyway.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

REAL_HOME = Path.home()
REAL_STATE = REAL_HOME / ".local/state/yaffw"


def entries(state: Path = REAL_STATE) -> set[str] | None:
    """The names in a state folder, or None when it does not exist."""
    try:
        return {p.name for p in state.iterdir()}
    except FileNotFoundError:
        return None


_BEFORE = entries()
_FAKE_HOME: Path | None = None


def isolate() -> Path:
    """Give this process (and so every child it starts) a scratch ``HOME``. Idempotent."""
    global _FAKE_HOME
    if _FAKE_HOME is None:
        os.environ.setdefault("XDG_CACHE_HOME", str(REAL_HOME / ".cache"))
        _FAKE_HOME = Path(tempfile.mkdtemp(prefix="yaffw-test-home-"))
        os.environ["HOME"] = str(_FAKE_HOME)
    return _FAKE_HOME


def check(before: set[str] | None = _BEFORE, state: Path = REAL_STATE) -> str | None:
    """A message when ``state`` (the real state folder) was created or got new entries since
    ``before`` (its entries when the run started), else None."""
    after = entries(state)
    if after is None or after == before:
        return None
    if before is None:
        return f"the test run created {state} (the user's real yaffw state): {sorted(after)}"
    added = sorted(after - before)
    return f"the test run added {added} to {state} (the user's real yaffw state)" if added else None


def cleanup() -> None:
    """Remove the scratch ``HOME`` (kept when ``YAFFW_TEST_KEEP`` is set)."""
    if _FAKE_HOME is not None and not os.environ.get("YAFFW_TEST_KEEP"):
        shutil.rmtree(_FAKE_HOME, ignore_errors=True)
