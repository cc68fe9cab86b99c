"""``header_hash``: a file's identity that survives a rename or a move (DESIGN §6).

SHA-256 of the first 64 KiB and the size. Reading 64 KiB is cheap on any storage, and the start of a
media file holds its headers (for MP4 written with ``+faststart``, the whole index), so two different
files of the same size almost never share it.
"""

from __future__ import annotations

import hashlib
import os

HEADER_BYTES = 64 * 1024


def header_hash(path: str | os.PathLike[str], size: int | None = None) -> str:
    """Hex digest of the first :data:`HEADER_BYTES` of ``path`` and its size.

    ``size`` is the size the caller already stat'ed (saves a syscall; pass it only if fresh).
    :raises OSError: if the file cannot be read.
    """
    with open(path, "rb") as f:
        head = f.read(HEADER_BYTES)
        if size is None:
            size = os.fstat(f.fileno()).st_size
    digest = hashlib.sha256(head)
    digest.update(b"\0size=%d" % size)
    return digest.hexdigest()
