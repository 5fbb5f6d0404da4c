"""Requests and answers of the brokers domain. Secrets never leave: only their last
characters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.brokers.documents import (
    BrokerEnvironment,
    BrokerLink,
    BrokerProvider,
    LinkStatus,
    PositionCheck,
    PositionDifference,
    RefusedPostback,
)
from app.realtime.eventlog import iso


class LinkCreate(BaseModel):
    """Link the club's broker account. Kite: ``key`` = API key, ``secret`` = API secret
    (``environment`` sandbox or live), then the treasurer logs in. Alpaca: ``key`` = API key
    id, ``secret`` = secret key (sandbox, paper or live)."""

    provider: BrokerProvider
    environment: BrokerEnvironment = BrokerEnvironment.SANDBOX
    key: str = Field(min_length=4, max_length=128, pattern=r"^[A-Za-z0-9_\-]+$")
    secret: str = Field(min_length=8, max_length=256, pattern=r"^[\x21-\x7e]+$")

    @model_validator(mode="after")
    def _environment_of_provider(self) -> LinkCreate:
        if self.provider is BrokerProvider.KITE and self.environment is BrokerEnvironment.PAPER:
            raise ValueError("Kite Connect has no paper endpoint: use sandbox or live")
        return self


class PositionCheckOut(BaseModel):
    """The latest comparison of the club's holdings with the broker's positions."""

    check_date: str
    ok: bool
    differences: list[PositionDifference]
    error: str
    checked_at: str

    @classmethod
    def of(cls, c: PositionCheck) -> PositionCheckOut:
        return cls(
            check_date=c.check_date,
            ok=c.ok,
            differences=c.differences,
            error=c.error,
            checked_at=iso(c.checked_at),
        )


class BrokerLinkOut(BaseModel):
    """A club's broker link as the treasurer sees it. ``login_url``: where to log in to Kite
    (present when a login is needed and was asked for)."""

    linked: bool
    provider: BrokerProvider | None = None
    environment: BrokerEnvironment | None = None
    status: LinkStatus | None = None
    status_reason: str = ""
    key_last4: str = ""
    secret_last4: str = ""
    account_ref: str | None = None
    linked_at: str | None = None
    session_at: str | None = None
    tested_at: str | None = None
    test_ok: bool | None = None
    test_message: str = ""
    login_url: str | None = None
    position_check: PositionCheckOut | None = None

    @classmethod
    def of(
        cls,
        link: BrokerLink | None,
        login_url: str | None = None,
        check: PositionCheck | None = None,
    ) -> BrokerLinkOut:
        if link is None:
            return cls(linked=False)
        return cls(
            linked=True,
            provider=link.provider,
            environment=link.environment,
            status=link.status,
            status_reason=link.status_reason,
            key_last4=link.key_last4,
            secret_last4=link.secret_last4,
            account_ref=link.account_ref,
            linked_at=iso(link.linked_at),
            session_at=iso(link.session_at) if link.session_at else None,
            tested_at=iso(link.tested_at) if link.tested_at else None,
            test_ok=link.test_ok,
            test_message=link.test_message,
            login_url=login_url,
            position_check=PositionCheckOut.of(check) if check else None,
        )


class PostbackAck(BaseModel):
    """A postback taken: how many broker updates it produced."""

    updates: int


class BrokerEventOut(BaseModel):
    """One audited broker action of the club: linked, unlinked, a Kite session started or
    ended, a login refused, an order changed at the broker. ``details`` never hold secrets."""

    at: str
    action: str
    actor_id: str | None
    details: dict[str, Any]


class RefusedPostbackOut(BaseModel):
    """A postback naming the club's broker account that was refused before use."""

    at: str
    reason: str
    order_ref: str
    remote: str

    @classmethod
    def of(cls, r: RefusedPostback) -> RefusedPostbackOut:
        return cls(at=iso(r.at), reason=r.reason, order_ref=r.order_ref, remote=r.remote)


class BrokerEventsOut(BaseModel):
    """What happened to the club's broker link, newest first, and the refused postbacks that
    named its account."""

    events: list[BrokerEventOut]
    refused_postbacks: list[RefusedPostbackOut]
