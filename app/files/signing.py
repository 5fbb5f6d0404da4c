"""Signed download links: ``/api/v1/files/<id>/content?exp=<unix>&d=<disposition>&v=<viewer>
&sig=<hmac>``. The HMAC-SHA256 key is an HKDF sub-key of ``secret_key`` used for nothing else;
a link works until ``exp`` for whoever holds it, so links live minutes
(``file_link_ttl_seconds``) and are issued only after the viewer's access was checked."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import Settings
from app.files.errors import InvalidLink, LinkExpired

DISPOSITIONS = ("inline", "attachment")


@lru_cache(maxsize=4)
def _key(secret: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"samooh-files", info=b"download-links"
    ).derive(secret.encode())


def _signature(settings: Settings, file_id: str, expires: int, disposition: str,
               viewer: str) -> str:  # fmt: skip
    message = f"{file_id}\n{expires}\n{disposition}\n{viewer}".encode()
    digest = hmac.new(_key(settings.secret_key.get_secret_value()), message, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class SignedLink:
    """A download link (path and query, relative to the public URL) and its expiry (unix s)."""

    path: str
    expires_at: int


def sign_link(settings: Settings, file_id: str, viewer: str, disposition: str = "attachment",
              *, ttl: int | None = None, now: float | None = None) -> SignedLink:  # fmt: skip
    """A link to file ``file_id`` for ``viewer`` (a user id, recorded when it is used)."""
    if disposition not in DISPOSITIONS:
        raise ValueError(f"disposition must be one of {DISPOSITIONS}")
    expires = int(now if now is not None else time.time()) + (
        ttl if ttl is not None else settings.file_link_ttl_seconds
    )
    sig = _signature(settings, file_id, expires, disposition, viewer)
    path = f"/api/v1/files/{file_id}/content?exp={expires}&d={disposition}&v={viewer}&sig={sig}"
    return SignedLink(path, expires)


def check_link(settings: Settings, file_id: str, exp: str, disposition: str, viewer: str,
               sig: str, *, now: float | None = None) -> None:  # fmt: skip
    """Accept a link's parameters or raise ``InvalidLink`` (403: forged, altered, or for
    another file) / ``LinkExpired`` (410). The signature is checked first and in constant
    time, so an expired forgery is still "invalid"."""
    if not exp.isdigit() or disposition not in DISPOSITIONS or not sig:
        raise InvalidLink("this download link is not valid")
    expected = _signature(settings, file_id, int(exp), disposition, viewer)
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise InvalidLink("this download link is not valid")
    if int(exp) < int(now if now is not None else time.time()):
        raise LinkExpired("this download link has expired; ask for a new one")
