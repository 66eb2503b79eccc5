"""The console's sign-in: an access key pair checked against the settings, then an HMAC-signed session cookie.

The cookie is `<access key id>.<expiry>.<signature>`, signed with HMAC-SHA256 under the key pair's own secret key:
it needs no server-side state or extra secret, survives restarts, and stops working when that key is removed or
its secret changes.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from reelrank.config import Settings

COOKIE = "reelrank_console"
SESSION_SECONDS = 12 * 60 * 60
ANONYMOUS = "(auth disabled)"


def check_keys(settings: Settings, access_key: str, secret_key: str) -> bool:
    """Whether the pair is one of the settings' credentials (constant time in the secret)."""
    expected = settings.credentials.get(access_key)
    # compare against something even for an unknown key, so the reply takes as long either way
    return hmac.compare_digest((expected or "\0" * 40).encode(), secret_key.encode()) and expected is not None


def _signature(secret: str, access_key: str, expires: int) -> str:
    message = f"reelrank-console-session|{access_key}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def session_cookie(settings: Settings, access_key: str, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + SESSION_SECONDS
    return f"{access_key}.{expires}.{_signature(settings.credentials[access_key], access_key, expires)}"


def signed_in_as(settings: Settings, cookie: str | None, now: float | None = None) -> str | None:
    """The access key id of a valid session cookie; ANONYMOUS when auth is off; None otherwise."""
    if not settings.auth:
        return ANONYMOUS
    if not cookie:
        return None
    parts = cookie.rsplit(".", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    access_key, expires_text, signature = parts
    secret = settings.credentials.get(access_key)
    expires = int(expires_text)
    if secret is None or expires < (now if now is not None else time.time()):
        return None
    if not hmac.compare_digest(_signature(secret, access_key, expires), signature):
        return None
    return access_key
