"""Fixtures of the identity tests: an HTTP client of the running web server (one client IP per
test, through X-Forwarded-For), account factories over HTTP and through the service layer, and
the local OpenID Connect provider."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from tests.conftest import OIDC_URL, LiveStack
from tests.identity.oidc_provider import OidcProvider


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    body: Any
    headers: dict[str, str]

    @property
    def code(self) -> str | None:
        """The error code, for error answers."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None


class Api:
    """A client of the live web server, appearing from its own IP address."""

    def __init__(self, base: str, http: aiohttp.ClientSession) -> None:
        self.base = base
        self.http = http
        self.ip = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        redirects: bool = True,
    ) -> Reply:
        sent = {"X-Forwarded-For": self.ip, **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        url = path if path.startswith("http") else f"{self.base}{path}"
        async with self.http.request(
            method, url, json=json, headers=sent, params=params, allow_redirects=redirects
        ) as response:
            if response.content_type == "application/json":
                body: Any = await response.json()
            else:
                body = await response.read()
            return Reply(response.status, body, dict(response.headers))

    async def outbox(self, email: str) -> list[dict[str, Any]]:
        """Mail the local SMTP server received for ``email``, newest first."""
        reply = await self.call("GET", "/api/v1/dev/outbox", params={"to": email})
        assert reply.status == 200, reply.body
        return list(reply.body["messages"])

    async def latest_code(self, email: str, subject_part: str = "") -> str:
        """The code of the newest mail to ``email`` (whose subject contains ``subject_part``)."""
        for message in await self.outbox(email):
            if subject_part.lower() in message["subject"].lower() and message["code"]:
                return str(message["code"])
        raise AssertionError(f"no mail with a code to {email}")

    async def signup(self, email: str, password: str, name: str = "Asha Rao") -> Reply:
        return await self.call(
            "POST",
            "/api/v1/auth/signup",
            json={"email": email, "password": password, "full_name": name},
        )

    async def register(self, email: str | None = None, password: str | None = None) -> Account:
        """Sign up and verify through HTTP and the real mail; return the account."""
        account = Account(email or new_email(), password or new_password())
        reply = await self.signup(account.email, account.password)
        assert reply.status == 202, reply.body
        code = await self.latest_code(account.email, "verification")
        reply = await self.call(
            "POST", "/api/v1/auth/verify-email", json={"email": account.email, "code": code}
        )
        assert reply.status == 200, reply.body
        account.user_id = reply.body["id"]
        account.member_id = reply.body["member_id"]
        return account

    async def login(self, account: Account, otp: str | None = None) -> Reply:
        payload: dict[str, Any] = {"email": account.email, "password": account.password}
        if otp:
            payload["otp"] = otp
        return await self.call("POST", "/api/v1/auth/login", json=payload)

    async def tokens(self, account: Account) -> dict[str, Any]:
        reply = await self.login(account)
        assert reply.status == 200, reply.body
        return dict(reply.body)


@dataclass
class Account:
    email: str
    password: str
    user_id: str = ""
    member_id: str | None = None


def new_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def new_password() -> str:
    return f"Tamarind-{secrets.token_hex(6)}"


def client_session() -> aiohttp.ClientSession:
    """A client of the live web server that drops an idle connection after 2 s, before
    Hypercorn's 5 s keep-alive closes it: reusing one the server is closing resets it."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(keepalive_timeout=2))


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with client_session() as http:
        yield Api(live_stack.url, http)


@pytest.fixture
async def other_api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with client_session() as http:
        yield Api(live_stack.url, http)


async def provision(roles: list[PlatformRole] | None = None, tag: str = "user") -> Account:
    """An ACTIVE account made through the service layer (no mail round trip)."""
    account = Account(new_email(tag), new_password())
    user = await do_provision_user(
        email=account.email, password=account.password, full_name=tag.title(), roles=roles
    )
    account.user_id, account.member_id = str(user.id), user.member_id
    return account


@pytest.fixture
async def member(services: object) -> Account:
    return await provision(tag="member")


@pytest.fixture
async def admin(services: object) -> Account:
    return await provision([PlatformRole.ADMIN], tag="admin")


@pytest.fixture(scope="session")
async def oidc(live_stack: LiveStack) -> AsyncIterator[OidcProvider]:
    provider = OidcProvider(
        url=OIDC_URL,
        client_id="samooh-test-client",
        client_secret="samooh-test-client-secret",
        redirect_uris=[f"{live_stack.url}/api/v1/auth/oauth/google/callback"],
    )
    await provider.start()
    yield provider
    await provider.stop()


async def eventually(check: Any, timeout: float = 10.0) -> Any:
    """Poll ``check()`` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)
