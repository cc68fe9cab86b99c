"""Password hashing in Jellyfin's encoding (DESIGN §7), so migrated users keep their passwords.

Format: ``$PBKDF2-SHA512$iterations=N$<salt hex>$<hash hex>``; Jellyfin's older ``$PBKDF2$``
(SHA1) hashes verify too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ITERATIONS = 210_000  # OWASP's figure for PBKDF2-HMAC-SHA512
_ALGORITHMS = {"PBKDF2-SHA512": "sha512", "PBKDF2": "sha1", "PBKDF2-SHA1": "sha1", "PBKDF2-SHA256": "sha256"}


def hash_password(password: str, *, iterations: int = ITERATIONS) -> str:
    """A new salted hash of ``password``."""
    salt = secrets.token_bytes(64)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$PBKDF2-SHA512$iterations={iterations}${salt.hex().upper()}${digest.hex().upper()}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches ``encoded``; False for a wrong password or unknown format."""
    parts = encoded.split("$")
    # ['', algorithm, 'iterations=N', salt, hash]  (Jellyfin may omit the parameters part)
    if len(parts) == 5:
        _, algorithm, params, salt_hex, hash_hex = parts
    elif len(parts) == 4:
        _, algorithm, salt_hex, hash_hex = parts
        params = "iterations=1000"
    else:
        return False
    name = _ALGORITHMS.get(algorithm.upper())
    if name is None:
        return False
    try:
        options = dict(p.split("=", 1) for p in params.split(",") if p)
        iterations = int(options.get("iterations", "1000"))
        salt = bytes.fromhex(salt_hex)
        expected = bytes.fromhex(hash_hex)
    except ValueError:
        return False
    if not 1 <= iterations <= 10_000_000:
        return False
    actual = hashlib.pbkdf2_hmac(name, password.encode(), salt, iterations, dklen=len(expected))
    return hmac.compare_digest(actual, expected)
