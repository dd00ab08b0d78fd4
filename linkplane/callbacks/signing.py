"""Signing a callback delivery with the profile's ``api_secret``.

emnify puts a JSON Web Token signed with the API secret into the ``Authorization`` header of
callback requests; linkplane does the same (HS256, that is HMAC-SHA256 keyed with the
secret) and binds the token to the exact body with a ``body_sha256`` claim, so a receiver
that checks both knows who sent the bytes and that nobody changed them. ``exp`` limits
replays to five minutes; ``jti`` is unique per attempt and ``delivery_id`` the same for all
attempts of one message (the receiver's de-duplication key: delivery is at least once).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import jwt

ISSUER = "linkplane"
LIFETIME_SECONDS = 300


def authorization(
    *, secret: str, body: bytes, delivery_id: int, attempt: int, now: datetime
) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": ISSUER,
        "iat": issued,
        "exp": issued + LIFETIME_SECONDS,
        "jti": f"{delivery_id}-{attempt}",
        "delivery_id": delivery_id,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    return "Bearer " + jwt.encode(claims, secret, algorithm="HS256")
