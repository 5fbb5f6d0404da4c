"""Web Push (issue #22): a member subscribes a browser over the API to the notification kinds
they chose; their notifications of those kinds arrive at the browser's push service encrypted
for that browser (aes128gcm, RFC 8291) and signed by the server's VAPID key (RFC 8292).

The push service is a local sandbox endpoint; the test plays the browser: it makes the P-256
key pair and auth secret a browser would, and decrypts what arrived with them (http_ece).
Not a browser test: headless Chromium has no push service to subscribe with (its
PushManager.subscribe needs Google's FCM), so subscription is exercised through the API the
service worker (web/public/sw.js) calls."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import http_ece
import pytest
from aiohttp import web
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.push.documents import PushSubscription
from tests.conftest import LiveStack, free_port
from tests.identity.conftest import Api, provision


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """The keys a browser's PushManager makes for one subscription."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(
        ec.SECP256R1()))  # fmt: skip
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def keys(self) -> dict[str, str]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url(point), "auth": b64url(self.auth)}

    def decrypt(self, body: bytes) -> dict[str, object]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth,
                                 version="aes128gcm")  # fmt: skip
        result: dict[str, object] = json.loads(plain)
        return result


@dataclass
class PushSandbox:
    """A push service on loopback: keeps every push; endpoints under ``/gone/`` answer 410."""

    url: str
    pushes: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def to(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for p, h, b in self.pushes if p == path]


@pytest.fixture
async def push_sandbox() -> AsyncIterator[PushSandbox]:
    port = free_port()
    sandbox = PushSandbox(url=f"http://127.0.0.1:{port}")

    async def receive(request: web.Request) -> web.Response:
        sandbox.pushes.append((request.path, dict(request.headers), await request.read()))
        return web.Response(status=410 if request.path.startswith("/gone/") else 201)

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield sandbox
    await runner.cleanup()


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


def verify_vapid(headers: dict[str, str], server_key: str, audience: str) -> dict[str, object]:
    """Check the ``Authorization: vapid t=<JWT>, k=<key>`` header: the key is the server's and
    the ES256 signature verifies with it. Returns the JWT's claims."""
    scheme, _, params = headers["Authorization"].partition(" ")
    assert scheme == "vapid"
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == server_key
    head, claims, signature = parts["t"].split(".")
    raw = unb64url(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(server_key))
    der = encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    decoded: dict[str, object] = json.loads(unb64url(claims))
    assert decoded["aud"] == audience and str(decoded["sub"]).startswith("mailto:")
    return decoded


async def test_a_member_subscribes_and_gets_only_the_kinds_they_chose(
    api: Api, push_sandbox: PushSandbox
) -> None:
    account = await provision(tag="pushed")
    token = (await api.tokens(account))["access_token"]
    server_key = (await api.call("GET", "/api/v1/push/key")).body["public_key"]
    assert len(unb64url(server_key)) == 65
    worker = await api.call("GET", "/sw.js")  # the service worker the web client registers
    assert worker.status == 200 and b"showNotification" in worker.body

    browser = Browser()
    endpoint = f"{push_sandbox.url}/push/{uuid.uuid4().hex}"
    chosen = {"endpoint": endpoint, "keys": browser.keys(), "kinds": ["mention", "payment_due"]}
    reply = await api.call("POST", "/api/v1/push/subscriptions", token=token, json=chosen)
    assert reply.status == 201, reply.body
    assert reply.body["kinds"] == ["mention", "payment_due"]
    listed = await api.call("GET", "/api/v1/push/subscriptions", token=token)
    assert [s["endpoint"] for s in listed.body["subscriptions"]] == [endpoint]

    await notification_service.do_notify([
        Draft(account.user_id, NotificationKind.MENTION, "Asha mentioned you",
              "in Growth Club: see the proposal", club_id="club-1"),
        Draft(account.user_id, NotificationKind.PROPOSAL_CREATED, "New proposal", "not chosen"),
    ])  # fmt: skip
    path = endpoint.removeprefix(push_sandbox.url)
    [(headers, body)] = push_sandbox.to(path)
    assert headers["Content-Encoding"] == "aes128gcm" and b"Asha" not in body
    message = browser.decrypt(body)
    assert message["kind"] == "mention" and message["title"] == "Asha mentioned you"
    assert message["url"] == "/clubs/club-1"
    verify_vapid(headers, server_key, push_sandbox.url)
    # Another browser could not read it.
    with pytest.raises((InvalidTag, http_ece.ECEException)):
        Browser(auth=browser.auth).decrypt(body)

    # Unsubscribed: nothing more arrives.
    gone = await api.call("DELETE", "/api/v1/push/subscriptions", token=token,
                          json={"endpoint": endpoint})  # fmt: skip
    assert gone.status == 200 and gone.body == {"subscriptions": []}
    await notification_service.do_notify(
        [Draft(account.user_id, NotificationKind.MENTION, "Again", "after unsubscribing")]
    )
    assert len(push_sandbox.to(path)) == 1


async def test_without_kinds_the_email_choices_apply_and_a_forgotten_subscription_is_dropped(
    api: Api, push_sandbox: PushSandbox
) -> None:
    account = await provision(tag="pushed")
    token = (await api.tokens(account))["access_token"]
    await api.call("PUT", "/api/v1/notifications/preferences", token=token,
                   json={"email_kinds": ["payment_received"]})  # fmt: skip
    endpoint = f"{push_sandbox.url}/gone/{uuid.uuid4().hex}"
    reply = await api.call("POST", "/api/v1/push/subscriptions", token=token,
                           json={"endpoint": endpoint, "keys": Browser().keys()})  # fmt: skip
    assert reply.status == 201 and reply.body["kinds"] == ["payment_received"]
    received = Draft(account.user_id, NotificationKind.PAYMENT_RECEIVED, "Payment received", "₹5")
    await notification_service.do_notify([received])
    assert len(push_sandbox.to(endpoint.removeprefix(push_sandbox.url))) == 1
    # The push service answered 410 Gone: the subscription is forgotten here too.
    assert await PushSubscription.find_one(PushSubscription.endpoint == endpoint) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"endpoint": "http://push.example.com/x1234567"}, "endpoint"),
        ({"endpoint": "ftp://127.0.0.1/x1234567"}, "endpoint"),
        ({"keys": {"p256dh": "A" * 87, "auth": "B" * 22}}, "keys.p256dh"),
        ({"kinds": ["no_such_kind"]}, "kinds"),
    ],
)
async def test_a_subscription_no_browser_makes_is_refused_and_nothing_is_stored(
    api: Api, push_sandbox: PushSandbox, change: dict[str, object], field: str
) -> None:
    account = await provision(tag="pushed")
    token = (await api.tokens(account))["access_token"]
    body = {"endpoint": f"{push_sandbox.url}/push/{uuid.uuid4().hex}",
            "keys": Browser().keys(), **change}  # fmt: skip
    reply = await api.call("POST", "/api/v1/push/subscriptions", token=token, json=body)
    assert (reply.status, reply.code) == (422, "invalid_push_subscription"), reply.body
    assert reply.body["error"]["details"]["field"] == field
    assert await PushSubscription.find(PushSubscription.user_id == account.user_id).count() == 0
    unauthenticated = await api.call("POST", "/api/v1/push/subscriptions", json=body)
    assert unauthenticated.status == 401
