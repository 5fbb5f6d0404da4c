"""Club members talking to the live API over HTTP, for the clubs tests."""

from __future__ import annotations

import uuid
from typing import Any

from tests.identity.conftest import Account, Api, eventually, provision
from tests.payments.sandbox_client import SandboxClient


class Member:
    """One logged-in person talking to the live API."""

    def __init__(self, api: Api, account: Account, token: str) -> None:
        self.api, self.account, self.token = api, account, token

    @property
    def id(self) -> str:
        return self.account.user_id

    async def call(self, method: str, path: str, json: Any = None, *, key: str | None = None,
                   params: dict[str, str] | None = None) -> Any:  # fmt: skip
        headers = {"Idempotency-Key": key} if key else None
        return await self.api.call(method, path, json=json, token=self.token, headers=headers,
                                   params=params)  # fmt: skip

    async def ok(self, method: str, path: str, json: Any = None, *, status: int = 200,
                 key: str | None = None) -> Any:  # fmt: skip
        reply = await self.call(method, path, json, key=key)
        assert reply.status == status, (method, path, reply.status, reply.body)
        return reply.body


async def login(api: Api) -> Member:
    account = await provision(tag="clubber")
    tokens = await api.tokens(account)
    return Member(api, account, tokens["access_token"])


async def pay_online(member: Member, club_id: str, amount: str, sandbox: SandboxClient,
                     paid_at: str) -> str:  # fmt: skip
    body = await member.ok("POST", f"/api/v1/clubs/{club_id}/contributions",
                           {"amount": amount, "method": "online"}, status=201,
                           key=str(uuid.uuid4()))  # fmt: skip
    assert body["status"] == "awaiting_payment" and body["checkout_url"]
    await sandbox.pay(body["order_id"], paid_at=paid_at)
    return str(body["id"])


async def received(owner: Member, club_id: str, contribution_ids: list[str]) -> None:
    async def check() -> bool:
        body = await owner.ok("GET", f"/api/v1/clubs/{club_id}/contributions")
        status = {c["id"]: c["status"] for c in body["contributions"]}
        return all(status.get(cid) == "received" for cid in contribution_ids)

    await eventually(check, timeout=30)
