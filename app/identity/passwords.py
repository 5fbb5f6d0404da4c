"""Password hashing (argon2id, argon2-cffi) and the password policy.

Parameters are argon2-cffi's defaults, RFC 9106's second recommended option: time cost 3,
64 MiB, parallelism 4 (~0.1 s per hash on a 2-core machine, measured in bench/). Hashing runs
in a thread so the event loop keeps serving. Policy (NIST SP 800-63B §5.1.1.2): a minimum
length, no composition rules, and a refusal of passwords found in breach corpora — here the
30,000 most common passwords shipped by the ``zxcvbn`` package.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.identity.errors import WeakPassword

MAX_PASSWORD_LENGTH = 256  # long pass-phrases welcome; a megabyte "password" is not

_hasher = PasswordHasher()
# Verified when the e-mail is unknown, so an unknown address costs the same time as a wrong
# password (no account enumeration by timing).
_DUMMY_HASH = _hasher.hash("samooh-no-such-account")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The zxcvbn package's list of the 30,000 most common passwords, lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password_policy(password: str, *, email: str, min_length: int) -> None:
    """Raise ``WeakPassword`` (422, ``details.reasons``) unless ``password`` is acceptable.

    Reasons: ``too_short`` (< ``min_length`` characters), ``too_long`` (> 256),
    ``too_common`` (in the common-password list, case-insensitive), ``contains_email`` (holds the
    address's local part when that has 4+ characters).
    """
    reasons: list[str] = []
    if len(password) < min_length:
        reasons.append("too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        reasons.append("too_long")
    lowered = password.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        reasons.append("too_common")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in lowered:
        reasons.append("contains_email")
    if reasons:
        raise WeakPassword(
            "the password does not meet the policy",
            details={"reasons": reasons, "min_length": min_length},
        )


async def hash_password(password: str) -> str:
    """argon2id hash in PHC string form (``$argon2id$v=19$m=65536,t=3,p=4$…``)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; a ``None`` or unreadable hash costs the same
    time as a real check and is False."""

    def check() -> bool:
        try:
            return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored)
