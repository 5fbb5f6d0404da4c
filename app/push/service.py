"""Web Push rules: the server's VAPID key (from settings, else generated once into
``vapid_key_file``), subscriptions checked and stored per person, and the push of each stored
notification to the subscriptions that chose its kind (RFC 8030 / 8291 / 8292 through
pywebpush). A push is at most once, like the socket event: the inbox is the record."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import ipaddress
import os
import tempfile
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from app.config import Settings, get_settings
from app.logging import get_logger
from app.push import repository
from app.push.documents import PushSubscription
from app.push.errors import InvalidSubscription, SubscriptionNotFound
from app.push.schemas import PushMessage, SubscriptionKeys

log = get_logger(__name__)

PUSH_TIMEOUT_SECONDS = 5.0
PUSH_TTL_SECONDS = 24 * 3600
GONE = (404, 410)  # the push service forgot the subscription: drop it


class Pushable(Protocol):
    """What a push tells: a stored notification (app/notifications ``Notification``)."""

    id: object
    user_id: str
    kind: str
    title: str
    body: str
    club_id: str | None


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PushService:
    """Stateless but for the VAPID key, loaded once per process."""

    def __init__(self) -> None:
        self._vapid: Vapid | None = None

    def vapid(self, settings: Settings | None = None) -> Vapid:
        """The VAPID key pair: ``vapid_private_key`` (PEM) when set; otherwise the PEM in
        ``vapid_key_file``, created on first use (several processes starting at once agree
        on one: the file is linked into place only if absent)."""
        if self._vapid is not None:
            return self._vapid
        settings = settings or get_settings()
        if settings.vapid_private_key is not None:
            pem = settings.vapid_private_key.get_secret_value().encode()
        else:
            pem = _load_or_create_key(Path(settings.vapid_key_file))
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the VAPID key must be a P-256 (prime256v1) private key")
        self._vapid = Vapid.from_pem(pem)
        return self._vapid

    def public_key(self) -> str:
        """The ``applicationServerKey``: base64url of the uncompressed public point."""
        point = self.vapid().public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return _b64url(point)

    def check_subscription(self, endpoint: str, keys: SubscriptionKeys) -> None:
        """Raises ``InvalidSubscription`` unless ``endpoint`` is an https URL (http to a
        loopback host outside production: the local push sandbox) and ``keys`` are a P-256
        point (65 bytes, uncompressed) and a 16-byte auth secret, base64url."""
        parts = urlsplit(endpoint)
        local = False
        try:
            local = ipaddress.ip_address(parts.hostname or "").is_loopback
        except ValueError:
            local = parts.hostname == "localhost"
        allowed_http = local and not get_settings().is_production
        if not parts.hostname or not (parts.scheme == "https" or
                                      (parts.scheme == "http" and allowed_http)):  # fmt: skip
            raise InvalidSubscription(
                "the endpoint must be an https address", details={"field": "endpoint"}
            )
        try:
            point, secret = _b64url_decode(keys.p256dh), _b64url_decode(keys.auth)
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except (ValueError, binascii.Error) as exc:
            raise InvalidSubscription(
                "p256dh is not a P-256 public key", details={"field": "keys.p256dh"}
            ) from exc
        if len(point) != 65 or len(secret) != 16:
            field = "keys.p256dh" if len(point) != 65 else "keys.auth"
            raise InvalidSubscription(f"{field} has the wrong length", details={"field": field})

    async def do_subscribe(
        self,
        user_id: str,
        endpoint: str,
        keys: SubscriptionKeys,
        kinds: list[str] | None,
        default_kinds: Sequence[str],
        known_kinds: Collection[str],
    ) -> PushSubscription:
        """Store the browser's subscription for ``user_id`` with ``kinds`` (``None``:
        ``default_kinds``, the kinds the person gets by e-mail). Raises
        ``InvalidSubscription`` (also for a kind not in ``known_kinds``)."""
        self.check_subscription(endpoint, keys)
        chosen = list(dict.fromkeys(kinds if kinds is not None else default_kinds))
        unknown = [k for k in chosen if k not in known_kinds]
        if unknown:
            raise InvalidSubscription(
                f"unknown notification kind {unknown[0]!r}", details={"field": "kinds"}
            )
        return await repository.upsert(
            PushSubscription(
                endpoint=endpoint, user_id=user_id, p256dh=keys.p256dh, auth=keys.auth,
                kinds=chosen,
            )
        )  # fmt: skip

    async def subscriptions(self, user_id: str) -> list[PushSubscription]:
        """The person's subscriptions."""
        return await repository.of_user(user_id)

    async def do_unsubscribe(self, user_id: str, endpoint: str) -> None:
        """Drop the person's subscription of ``endpoint``. Raises ``SubscriptionNotFound``."""
        if not await repository.delete(user_id, endpoint):
            raise SubscriptionNotFound("no subscription of yours has this endpoint")

    async def deliver(self, notifications: Sequence[Pushable]) -> int:
        """Push each notification to its person's subscriptions that chose its kind, encrypted
        (aes128gcm) and signed (VAPID); a subscription its push service forgot (404/410) is
        dropped; other failures are logged. Returns how many pushes were accepted."""
        settings = get_settings()
        sent = 0
        async with aiohttp.ClientSession() as http:
            for n in notifications:
                message = PushMessage(
                    id=str(n.id), kind=str(n.kind), title=n.title, body=n.body,
                    url=f"/clubs/{n.club_id}" if n.club_id else "/",
                ).model_dump_json()  # fmt: skip
                for subscription in await repository.for_kind(n.user_id, str(n.kind)):
                    sent += await self._push(http, subscription, message, settings)
        return sent

    async def _push(
        self, http: aiohttp.ClientSession, subscription: PushSubscription, message: str,
        settings: Settings,
    ) -> int:  # fmt: skip
        info = {"endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}  # fmt: skip
        try:
            await asyncio.wait_for(
                webpush_async(
                    info, data=message, vapid_private_key=self.vapid(),
                    vapid_claims={"sub": settings.vapid_subject}, ttl=PUSH_TTL_SECONDS,
                    aiohttp_session=http, timeout=PUSH_TIMEOUT_SECONDS,
                ),
                PUSH_TIMEOUT_SECONDS * 2,
            )  # fmt: skip
        except WebPushException as exc:
            status = getattr(exc.response, "status", None)
            if status in GONE:
                await repository.delete(None, subscription.endpoint)
                log.info("push subscription gone", status=status)
            else:
                log.warning("push refused", status=status, error=str(exc)[:200])
            return 0
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("push service unreachable", error=str(exc)[:200])
            return 0
        await repository.mark_pushed(subscription.endpoint, dt.datetime.now(dt.UTC))
        return 1


def _load_or_create_key(path: Path) -> bytes:
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".vapid-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
        os.chmod(tmp, 0o600)
        with contextlib.suppress(FileExistsError):  # another process made one first: theirs
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_bytes()


push_service = PushService()
