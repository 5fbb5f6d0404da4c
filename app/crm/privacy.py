"""Keys of CRM personal data, in the style of app/kyc/crypto.py: AES-256-GCM for phone numbers
and addresses at rest, an HMAC fingerprint that finds the same phone on two leads without
storing it in the clear, and the keyed hash by which the audit chain names a person (so erasing
the person leaves every audit record, and the chain, intact). All are HKDF sub-keys of
``kyc_data_key`` (or ``secret_key``), each used for nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings

VERSION = "v1"


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes, bytes]:
    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"samooh-crm", info=info).derive(
            secret.encode()
        )

    return derive(b"crm-pii-aead"), derive(b"crm-dedupe"), derive(b"crm-audit-subject")


def _secret() -> str:
    settings = get_settings()
    return settings.kyc_data_key.get_secret_value() or settings.secret_key.get_secret_value()


def seal(value: str, context: str) -> str:
    """AES-256-GCM of ``value`` bound to ``context`` (``lead:<id>:phone``); ``v1:`` + url-safe
    base64 of nonce ‖ ciphertext ‖ tag."""
    key = _keys(_secret())[0]
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), context.encode())
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(token: str, context: str) -> str:
    """Inverse of ``seal``. Raises ``cryptography.exceptions.InvalidTag`` for a wrong key or
    context, ``ValueError`` for an unknown version."""
    version, _, body = token.partition(":")
    if version != VERSION:
        raise ValueError(f"unknown CRM ciphertext version {version!r}")
    raw = base64.urlsafe_b64decode(body.encode())
    return AESGCM(_keys(_secret())[0]).decrypt(raw[:12], raw[12:], context.encode()).decode()


def fingerprint(kind: str, value: str) -> str:
    """HMAC-SHA256 hex of ``kind:value`` (equal for the same normalised phone)."""
    return hmac.new(_keys(_secret())[1], f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def subject_hash(record_id: str) -> str:
    """The keyed hash the audit chain records for a lead or client instead of their data."""
    return hmac.new(_keys(_secret())[2], record_id.encode(), hashlib.sha256).hexdigest()[:32]
