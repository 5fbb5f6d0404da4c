"""Key material derived from settings: the JWT signing key, the HMAC key for codes, and the
AES-GCM key TOTP secrets are encrypted with. Sub-keys come from ``secret_key`` through HKDF, so
one secret rotates them all and none is used for two purposes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import OKPKey

from app.config import Settings


def _subkey(secret: str, purpose: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"samooh-identity", info=purpose.encode()
    ).derive(secret.encode())


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    return _subkey(secret, "code-hmac"), _subkey(secret, "totp-secret-aead")


@lru_cache(maxsize=4)
def _signing_key(pem: str) -> OKPKey:
    key = OKPKey.import_key(pem)
    # kid = RFC 7638 thumbprint: a verifier holding several keys picks the right one.
    key.ensure_kid()
    return key


def signing_key(settings: Settings) -> OKPKey:
    """The Ed25519 private key that signs access tokens (with its ``kid``)."""
    return _signing_key(settings.jwt_private_key.get_secret_value())


def code_hash(settings: Settings, *parts: str) -> str:
    """HMAC-SHA256 hex of ``parts`` joined by ``:`` under the code key.

    A 6-digit code has only 10^6 values, so a plain hash would be reversed in a second by anyone
    who reads the database; the keyed hash needs the server's secret too.
    """
    key, _ = _keys(settings.secret_key.get_secret_value())
    return hmac.new(key, ":".join(parts).encode(), hashlib.sha256).hexdigest()


def refresh_successor(settings: Settings, refresh_token: str, nonce: str) -> str:
    """The refresh token that succeeds ``refresh_token`` when it is spent with the client's
    ``nonce``: url-safe base64 (43 characters) of HMAC-SHA256 under a key of its own. The same
    token and nonce always give the same successor, so a client that lost the answer can ask
    again (app/identity/repository.py, ``_ROTATE``); it cannot be guessed without the key."""
    key = _subkey(settings.secret_key.get_secret_value(), "refresh-successor")
    digest = hmac.new(key, f"{refresh_token}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def codes_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes or codes."""
    return hmac.compare_digest(a.encode(), b.encode())


def encrypt_secret(settings: Settings, plaintext: str, context: str) -> str:
    """AES-256-GCM encrypt ``plaintext`` bound to ``context`` (the user id).

    Returns url-safe base64 of nonce + ciphertext + tag."""
    _, key = _keys(settings.secret_key.get_secret_value())
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt_secret(settings: Settings, token: str, context: str) -> str:
    """Inverse of ``encrypt_secret``. Raises ``cryptography.exceptions.InvalidTag`` when the
    ciphertext, its context or the key do not match."""
    _, key = _keys(settings.secret_key.get_secret_value())
    raw = base64.urlsafe_b64decode(token.encode())
    return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()
