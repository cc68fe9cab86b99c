"""The one check before a media file is served, probed or transcoded (issue 14).

A path from the database or a library walk is used only when it is a regular file whose real path
(symlinks resolved) lies under one of the library's roots, themselves resolved, so a library reached
through a symlink keeps working, and so do symlinks between folders of the libraries. A file that is
(or has since become) a symlink to ``/etc/passwd``, a FIFO, a device or a socket is refused.

The file is opened with ``O_NONBLOCK`` (a FIFO that slipped in between the ``stat`` and the ``open``
cannot hang the caller), then checked again on the open descriptor: ``fstat`` for ``S_ISREG`` and
``/proc/self/fd/N`` for the path that was really opened. Everything here blocks on the file system:
call it from a thread (``asyncio.to_thread``), never on an event loop.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable

from yaffw.errors import NotFound, Unavailable

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


class RefusedFile(NotFound):
    """The path leads outside every media root, or to something that is not a regular file (404, as
    for a missing file: a client has nothing to fix, and nothing is told about what lies elsewhere)."""

    code = "file_refused"


def real_roots(roots: Iterable[str]) -> list[str]:
    """The roots with every symlink resolved (a library may itself be reached through one)."""
    return [os.path.realpath(r) for r in roots if r]


def is_under(real_path: str, roots: Iterable[str]) -> bool:
    """True when the resolved ``real_path`` is one of the resolved ``roots`` or lies under one."""
    return any(real_path == r or real_path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def refusal(path: str, roots: Iterable[str]) -> str | None:
    """Why ``path`` must not be used (``None`` when it may), by ``stat`` alone: for walks, where
    opening every file would cost too much. :raises OSError: the path does not exist."""
    real = os.path.realpath(path)
    if not is_under(real, real_roots(roots)):
        return "the file is a link to a place outside the library folders"
    if not stat.S_ISREG(os.stat(real).st_mode):
        return "not a regular file (a FIFO, device, socket or folder)"
    return None


def _fd_path(fd: int) -> str | None:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc (macOS): the pre-open check stands alone
        return None


def open_media(path: str, roots: Iterable[str]) -> tuple[int, os.stat_result]:
    """Open ``path`` for reading after the checks above; returns ``(fd, fstat)``. The caller closes ``fd``.

    :raises NotFound: (``file_missing``) gone since the scan. :raises RefusedFile: outside the
        roots or not a regular file. :raises Unavailable: (``file_unreadable``) unreadable.
    """
    resolved = real_roots(roots)
    try:
        why = refusal(path, resolved)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound("media file is missing (moved or deleted since the last scan)", code="file_missing") from exc
    except OSError as exc:
        raise _unreadable(exc) from exc
    if why:
        raise RefusedFile(f"media file refused: {why}")
    try:
        fd = os.open(path, _FLAGS)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound("media file is missing (moved or deleted since the last scan)", code="file_missing") from exc
    except OSError as exc:
        raise _unreadable(exc) from exc
    try:
        st = os.fstat(fd)
        opened = _fd_path(fd)
        # Swapped between the check and the open: judge what was really opened.
        if not stat.S_ISREG(st.st_mode):
            raise RefusedFile("media file refused: not a regular file (a FIFO, device, socket or folder)")
        if opened is not None and not is_under(opened, resolved):
            raise RefusedFile("media file refused: the file is a link to a place outside the library folders")
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def check_media(path: str, roots: Iterable[str]) -> os.stat_result:
    """:func:`open_media`, closing the file again: for callers that hand the path to FFmpeg."""
    fd, st = open_media(path, roots)
    os.close(fd)
    return st


def _unreadable(exc: OSError) -> Unavailable:
    return Unavailable(f"media file cannot be read: {exc.strerror}", code="file_unreadable")
