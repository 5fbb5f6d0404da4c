"""Socket.IO authentication, the admin's user list, and suspension cutting HTTP and open
sockets at once — against the running web server."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import socketio

from app.config import get_settings
from app.identity.tokens import issue_token
from app.realtime import control
from app.realtime.rooms import user_room
from tests.conftest import LiveStack
from tests.identity.conftest import Account, Api, eventually, provision


def _family(token: str) -> str:
    """The ``fam`` claim (session id) of a JWT, read without verifying it."""
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["fam"])


class Client:
    """A python-socketio client that records what it receives and why it was refused."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: list[tuple[str, Any]] = []
        self.refusal: Any = None
        self.disconnected = asyncio.Event()
        self.sio.on("connect_error", self._refused)
        self.sio.on("disconnect", self._gone)
        self.sio.on("*", self._any)

    async def _refused(self, data: Any) -> None:
        self.refusal = data

    async def _gone(self, *args: Any) -> None:
        self.disconnected.set()

    async def _any(self, event: str, data: Any) -> None:
        self.events.append((event, data))

    async def connect(self, url: str, auth: Any) -> bool:
        try:
            await self.sio.connect(url, transports=["websocket"], auth=auth, wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            return False
        return True


async def test_a_connection_needs_a_valid_token(
    live_stack: LiveStack, api: Api, member: Account
) -> None:
    settings = get_settings()
    pair = await api.tokens(member)
    expired = issue_token(
        settings, subject=member.user_id, token_type="access", roles=["user"],
        family="f" * 32, now=int(time.time()) - 7200,
    )  # fmt: skip
    # Another account's subject inside this member's live session.
    other = await provision(tag="other")
    crossed = issue_token(
        settings, subject=other.user_id, token_type="access", roles=["user"],
        family=_family(pair["access_token"]),
    )  # fmt: skip
    cases = [
        (None, "authentication_required"),
        ({"token": crossed}, "token_claims_invalid"),
        ({"token": ""}, "authentication_required"),
        ({"token": "garbage"}, "token_malformed"),
        ({"token": expired}, "token_expired"),
        ({"token": pair["access_token"][:-4] + "AAAA"}, "token_signature_invalid"),
    ]
    for auth, code in cases:
        client = Client()
        assert not await client.connect(live_stack.url, auth), auth
        assert (client.refusal.get("data") or {}).get("code") == code, (auth, client.refusal)
        assert client.refusal["message"] == client.refusal["data"]["message"]

    client = Client()
    assert await client.connect(live_stack.url, {"token": pair["access_token"]})
    try:
        # The socket is in user:<id>: something emitted there (from any process) arrives.
        await control.emit_to_room(
            settings.redis_url, "notification:new", {"id": "n1", "ts": "now"},
            user_room(member.user_id),
        )  # fmt: skip
        await eventually(lambda: asyncio.sleep(0, result=client.events))
        assert client.events == [("notification:new", {"id": "n1", "ts": "now"})]
    finally:
        await client.sio.disconnect()


async def test_a_guest_socket_gets_public_quotes_but_no_user_room(
    live_stack: LiveStack, api: Api
) -> None:
    guest = (await api.call("POST", "/api/v1/auth/guest")).body["access_token"]
    client = Client()
    assert await client.connect(live_stack.url, {"token": guest})
    try:
        ack = await client.sio.call("quote:subscribe", {"symbols": ["AAPL"]}, timeout=10)
        assert ack == {"ok": True, "symbols": ["AAPL"]}
    finally:
        await client.sio.disconnect()


async def test_admin_lists_and_searches_users(api: Api, admin: Account, member: Account) -> None:
    token = (await api.tokens(admin))["access_token"]
    reply = await api.call(
        "GET", "/api/v1/admin/users", token=token, params={"q": member.email[:14].upper()}
    )
    assert reply.status == 200, reply.body
    assert [u["email"] for u in reply.body["items"]] == [member.email]
    assert reply.body["total"] == 1 and reply.body["items"][0]["member_id"] == member.member_id
    by_id = await api.call(
        "GET", "/api/v1/admin/users", token=token, params={"q": member.member_id or ""}
    )
    assert [u["id"] for u in by_id.body["items"]] == [member.user_id]
    page = await api.call(
        "GET", "/api/v1/admin/users", token=token,
        params={"role": "admin", "page": "1", "page_size": "1"},
    )  # fmt: skip
    assert page.body["page_size"] == 1 and len(page.body["items"]) == 1
    assert page.body["total"] >= 1 and "admin" in page.body["items"][0]["roles"]
    bad = await api.call("GET", "/api/v1/admin/users", token=token, params={"page_size": "1000"})
    assert bad.status == 422
    member_token = (await api.tokens(member))["access_token"]
    forbidden = await api.call("GET", "/api/v1/admin/users", token=member_token)
    assert (forbidden.status, forbidden.code) == (403, "forbidden")


async def test_suspension_cuts_http_and_open_sockets_at_once(
    live_stack: LiveStack, api: Api, admin: Account, member: Account
) -> None:
    admin_token = (await api.tokens(admin))["access_token"]
    pair = await api.tokens(member)
    client = Client()
    assert await client.connect(live_stack.url, {"token": pair["access_token"]})

    reply = await api.call(
        "POST", f"/api/v1/admin/users/{member.user_id}/suspend", token=admin_token,
        json={"reason": "chargeback fraud under review"},
    )  # fmt: skip
    assert reply.status == 200, reply.body
    assert reply.body["status"] == "SUSPENDED" and reply.body["suspended_at"]

    await asyncio.wait_for(client.disconnected.wait(), 10)
    me = await api.call("GET", "/api/v1/me", token=pair["access_token"])
    assert (me.status, me.code) == (403, "account_suspended")
    refresh = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refresh.status == 401
    assert (await api.login(member)).code == "account_suspended"
    again = Client()
    assert not await again.connect(live_stack.url, {"token": pair["access_token"]})
    assert again.refusal["data"]["code"] == "account_suspended"

    reactivated = await api.call(
        "POST", f"/api/v1/admin/users/{member.user_id}/reactivate", token=admin_token,
        json={"reason": "review cleared"},
    )  # fmt: skip
    assert reactivated.status == 200 and reactivated.body["status"] == "ACTIVE"
    # Old sessions stay revoked; a new login works.
    assert (await api.call("GET", "/api/v1/me", token=pair["access_token"])).status == 401
    assert (await api.login(member)).status == 200

    audit = await api.call(
        "GET", "/api/v1/admin/audit", token=admin_token, params={"target_id": member.user_id}
    )
    assert [r["action"] for r in audit.body["items"]] == ["user.reactivate", "user.suspend"]
    assert audit.body["items"][1]["details"]["reason"] == "chargeback fraud under review"
    assert audit.body["chain_ok"] is True
    own = await api.call(
        "POST", f"/api/v1/admin/users/{admin.user_id}/suspend", token=admin_token,
        json={"reason": "oops"},
    )  # fmt: skip
    assert own.code == "cannot_change_own_account"
    missing = await api.call(
        "POST", "/api/v1/admin/users/000000000000000000000000/suspend", token=admin_token,
        json={"reason": "nobody"},
    )  # fmt: skip
    assert (missing.status, missing.code) == (404, "user_not_found")
