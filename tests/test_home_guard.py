"""The run's processes never see the user's real home, so they cannot create ``~/.local/state/yaffw``
(issue 14); and the end-of-run check notices when that folder appears anyway."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from yaffw.settings import Settings

from tests import home_guard


def test_default_state_dir_is_not_the_users() -> None:
    assert not Settings().state_dir.is_relative_to(home_guard.REAL_HOME)
    child = subprocess.run([sys.executable, "-c", "from yaffw.settings import Settings; print(Settings().state_dir)"],
                           env={k: v for k, v in os.environ.items() if not k.startswith("YAFFW_")},
                           check=True, capture_output=True, text=True)  # fmt: skip
    assert not Path(child.stdout.strip()).is_relative_to(home_guard.REAL_HOME), child.stdout
    assert Path(os.environ["XDG_CACHE_HOME"]).is_relative_to(home_guard.REAL_HOME)  # caches stay shared


def test_check_notices_a_created_or_changed_state_folder(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert home_guard.check(None, state) is None
    state.mkdir()
    (state / "postgres").mkdir()
    assert "created" in (home_guard.check(None, state) or "")
    assert home_guard.check({"postgres"}, state) is None
    (state / "images").mkdir()
    assert "['images']" in (home_guard.check({"postgres"}, state) or "")
