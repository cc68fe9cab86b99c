"""Settings: parsed once from the environment; bad values fail naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from yaffw.errors import ConfigError
from yaffw.settings import Settings, env_var_names


def test_defaults_and_parsing() -> None:
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://u@db:5432/yaffw",
            "REDIS_URL": "redis://cache:6379/1",
            "YAFFW_HWACCEL": "vaapi",
            "YAFFW_MEDIA_ROOTS": "/media/a:/media/b",
            "YAFFW_WORKER_SESSIONS": "4",
            "YAFFW_SECURE_COOKIES": "yes",
            "YAFFW_DISPATCH_TARGETS": "yaffw-scan=http://127.0.0.1:9000, yaffw-api=http://a:1",
            "PORT": "8080",
            "HOME": "/root",  # unrelated variables are ignored
        }
    )
    assert s.hwaccel == "vaapi"
    assert s.media_roots == (Path("/media/a"), Path("/media/b"))
    assert s.worker_sessions == 4
    assert s.secure_cookies is True
    assert s.dispatch_targets == {"yaffw-scan": "http://127.0.0.1:9000", "yaffw-api": "http://a:1"}
    assert Settings.from_env({}).hwaccel == "none"
    assert Settings.from_env({}).segment_seconds == 6


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL"),
        ("YAFFW_HWACCEL", "cuda", "YAFFW_HWACCEL"),
        ("YAFFW_WORKER_SESSIONS", "many", "YAFFW_WORKER_SESSIONS"),
        ("YAFFW_WORKER_SESSIONS", "0", "between 1 and 64"),
        ("PORT", "70000", "PORT"),
        ("YAFFW_MEDIA_ROOTS", "relative/path", "not an absolute path"),
        ("YAFFW_SECURE_COOKIES", "maybe", "YAFFW_SECURE_COOKIES"),
        ("YAFFW_DISPATCH_TARGETS", "scan", "name=url"),
        ("YAFFW_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local", "not an IP address"),
    ],
)
def test_malformed_values_name_the_variable(var: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({var: value})
    assert fragment in str(err.value)
    assert var in str(err.value)


def test_unknown_yaffw_variable_is_refused() -> None:
    with pytest.raises(ConfigError, match="YAFFW_HWACELL"):
        Settings.from_env({"YAFFW_HWACELL": "nvenc"})


def test_to_env_round_trips() -> None:
    s = Settings.from_env(
        {"DATABASE_URL": "postgresql://u@h/d", "YAFFW_MEDIA_ROOTS": "/a:/b", "YAFFW_SECURE_COOKIES": "true",
         "YAFFW_DISPATCH_TARGETS": "x=http://h:1", "YAFFW_TRUSTED_PROXIES": "10.1.2.3/8, ::1"}
    )  # fmt: skip
    assert s.trusted_proxies == ("10.0.0.0/8", "::1/128")
    assert Settings.from_env(s.to_env()) == s
    assert set(s.to_env()) <= env_var_names()


def test_require_names_missing_variable() -> None:
    with pytest.raises(ConfigError, match="YAFFW_JWT_SECRET must be set"):
        Settings.from_env({}).require("jwt_secret")
