"""yaffw's errors. Library code raises these; the api turns them into HTTP in one place.

YaffwError (code, status)
├── ConfigError        bad or missing setting (at start, never over HTTP)
├── BadInput     400   the request or event is malformed
├── Unauthorized 401   no or bad credentials
├── Forbidden    403   known user, not allowed
├── NotFound     404   missing, or not visible to the caller (ids do not leak)
├── Conflict     409   already exists / state does not allow it
├── TooLarge     413   the request body is over its limit
├── RateLimited  429   too many attempts
└── Unavailable  503   a dependency is down or a segment is not ready yet
"""

from __future__ import annotations


class YaffwError(Exception):
    """Base class: ``code`` is machine-readable, ``status`` the HTTP status it maps to."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}


class ConfigError(YaffwError):
    code = "config"


class BadInput(YaffwError):
    code = "bad_input"
    status = 400


class Unauthorized(YaffwError):
    code = "unauthorized"
    status = 401


class Forbidden(YaffwError):
    code = "forbidden"
    status = 403


class NotFound(YaffwError):
    code = "not_found"
    status = 404


class Conflict(YaffwError):
    code = "conflict"
    status = 409


class TooLarge(YaffwError):
    code = "too_large"
    status = 413


class RateLimited(YaffwError):
    code = "rate_limited"
    status = 429


class Unavailable(YaffwError):
    code = "unavailable"
    status = 503
