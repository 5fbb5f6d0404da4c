"""TOTP (RFC 6238, pyotp) and recovery codes: pure functions, no storage.

30-second steps, 6 digits, SHA-1 (what every authenticator app supports). A code is accepted
for the current step and one step either side (±30 s of clock drift, RFC 6238 §5.2), and only
if its step is later than the last one accepted (service.py): a code is never accepted twice.
"""

from __future__ import annotations

import io
import secrets
import time

import pyotp
import qrcode
from qrcode.image.pure import PyPNGImage

from app.identity.keys import codes_equal

STEP_SECONDS = 30
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def new_secret() -> str:
    """A random 160-bit base32 secret (RFC 4226 §4 recommends 160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://totp/…`` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code equals ``code`` within the window, or None."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        # Compare every candidate (constant time, no early exit on a match).
        if codes_equal(totp.generate_otp(step), code):
            found = step
    return found


def code_at(secret: str, when: float) -> str:
    """The code an authenticator shows at ``when`` (tests, the demo)."""
    return pyotp.TOTP(secret).at(int(when))


def qr_png(uri: str) -> bytes:
    """A PNG QR code of ``uri`` (pure Python: qrcode + pypng)."""
    image = qrcode.make(uri, image_factory=PyPNGImage, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """``count`` codes like ``k3m9p-x2q7r`` (10 symbols of 31: ~49.5 bits each)."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(count)
    ]


def normalise_recovery_code(code: str) -> str:
    """Lower-case, dashes and spaces ignored, then re-dashed: ``K3M9P X2Q7R`` → ``k3m9p-x2q7r``."""
    compact = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{compact[:5]}-{compact[5:]}" if len(compact) == 10 else compact


def looks_like_totp(code: str) -> bool:
    """Six digits: a TOTP code (recovery codes have letters)."""
    return len(code) == 6 and code.isdigit()
