"""Hashing for machine secrets: station passwords and API keys.

These are high-entropy random strings checked on every connect or request, so a
slow password hasher (PBKDF2 with a million rounds) would turn a reconnect storm
into minutes of CPU. A salted SHA-256 is the right tool for random secrets.
"""

import hashlib
import hmac
import secrets

_ALGORITHM = "sha256"


def hash_secret(secret: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}${secret}".encode()).hexdigest()
    return f"{_ALGORITHM}${salt}${digest}"


def verify_secret(secret: str, encoded: str) -> bool:
    try:
        algorithm, salt, digest = encoded.split("$", 2)
    except (AttributeError, ValueError):
        return False
    if algorithm != _ALGORITHM:
        return False
    candidate = hashlib.sha256(f"{salt}${secret}".encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)


def generate_secret(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
