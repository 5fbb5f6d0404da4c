"""Keys of KYC data: AES-256-GCM for Aadhaar numbers at rest, and an HMAC fingerprint that finds
the same number on two accounts without storing it. Both are HKDF sub-keys of
``kyc_data_key`` (or, when that is empty, of ``secret_key``), used for nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import Settings

VERSION = "v1"


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    def derive(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"samooh-kyc", info=info).derive(
            secret.encode()
        )

    return derive(b"document-number-aead"), derive(b"document-number-fingerprint")


def _secret(settings: Settings) -> str:
    return settings.kyc_data_key.get_secret_value() or settings.secret_key.get_secret_value()


def encrypt_number(settings: Settings, number: str, context: str) -> str:
    """AES-256-GCM of ``number``, bound to ``context`` (``<user id>:<kind>``) as associated
    data, so a ciphertext moved to another user's record does not decrypt. Returns
    ``v1:`` + url-safe base64 of nonce ‖ ciphertext ‖ tag."""
    key, _ = _keys(_secret(settings))
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, number.encode(), context.encode())
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_number(settings: Settings, token: str, context: str) -> str:
    """Inverse of ``encrypt_number``. Raises ``cryptography.exceptions.InvalidTag`` when the
    key or context do not match, ``ValueError`` for an unknown version."""
    version, _, body = token.partition(":")
    if version != VERSION:
        raise ValueError(f"unknown KYC ciphertext version {version!r}")
    key, _ = _keys(_secret(settings))
    raw = base64.urlsafe_b64decode(body.encode())
    return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()


def fingerprint(settings: Settings, kind: str, number: str) -> str:
    """HMAC-SHA256 hex of ``kind:number``: equal for the same document, useless without the key
    (an Aadhaar number has only 10¹¹ values, so a plain hash would be reversed)."""
    _, key = _keys(_secret(settings))
    return hmac.new(key, f"{kind}:{number}".encode(), hashlib.sha256).hexdigest()
