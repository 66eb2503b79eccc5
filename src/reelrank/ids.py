"""Identifiers minted on every request (request ids, recommendation ids): unique, not secret, and cheap.

They come from `random.getrandbits` rather than `uuid.uuid4` (an os.urandom call and a UUID object each): the
module's generator is seeded from the OS and reseeded in every forked child, so server processes never repeat
each other.
"""

from __future__ import annotations

from random import getrandbits


def request_id() -> str:
    """A version-4 UUID string, as AWS's x-amzn-RequestId."""
    return (f"{getrandbits(32):08x}-{getrandbits(16):04x}-4{getrandbits(12):03x}-"
            f"{0x8000 | getrandbits(14):04x}-{getrandbits(48):012x}")


def hex_id(digits: int) -> str:
    """`digits` random hex digits."""
    return f"{getrandbits(4 * digits):0{digits}x}"
