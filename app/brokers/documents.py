"""Stored shapes of the brokers domain: a club's linked broker account (credentials encrypted at
rest), postbacks refused, and the daily comparison of holdings with the broker's positions."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class BrokerProvider(StrEnum):
    KITE = "kite"
    ALPACA = "alpaca"


class BrokerEnvironment(StrEnum):
    """Which API a link talks to: the local sandbox, Alpaca's paper trading, or the live
    broker (Kite has no paper endpoint)."""

    SANDBOX = "sandbox"
    PAPER = "paper"
    LIVE = "live"


class LinkStatus(StrEnum):
    """``login_required``: Kite needs the treasurer's login (first link, or the daily session
    ended); ``active``: orders go through it; ``unverified``: Alpaca did not answer when the
    keys were saved — not used for orders until a test of the link succeeds;
    ``credentials_refused``: the broker refused the secret (Kite's session could not be made
    with it) — the keys must be changed."""

    LOGIN_REQUIRED = "login_required"
    ACTIVE = "active"
    UNVERIFIED = "unverified"
    CREDENTIALS_REFUSED = "credentials_refused"


class BrokerLink(Document):
    """A club's broker account (one per club). ``key_enc``/``secret_enc``/``token_enc``:
    AES-256-GCM (app/identity/keys.py ``encrypt_secret``) bound to ``broker:<club>:<field>``;
    only ``key_last4``/``secret_last4`` are ever shown. ``login_state``: the one-time value a
    Kite login carries back (``redirect_params``). ``account_ref``: the broker's user/account
    id (Kite ``user_id``; Alpaca ``account_number``), how a postback finds its link."""

    club_id: str
    provider: BrokerProvider
    environment: BrokerEnvironment
    key_enc: str
    secret_enc: str
    key_last4: str
    secret_last4: str
    token_enc: str | None = None
    session_at: dt.datetime | None = None
    login_state: str | None = None
    account_ref: str | None = None
    status: LinkStatus = LinkStatus.LOGIN_REQUIRED
    status_reason: str = ""
    linked_by: str
    linked_at: dt.datetime = Field(default_factory=utcnow)
    tested_at: dt.datetime | None = None
    test_ok: bool | None = None
    test_message: str = ""

    class Settings:
        name = "broker_links"
        indexes = [
            IndexModel([("club_id", ASCENDING)], unique=True, name="club_unique"),
            IndexModel([("provider", ASCENDING), ("account_ref", ASCENDING)], name="account"),
            IndexModel([("login_state", ASCENDING)], name="login_state"),
        ]


class RefusedPostback(Document):
    """A postback refused before use (bad checksum, unknown account, unreadable body): what
    arrived, for the operator. ``body`` is cut to 4 KB; no secret is in it."""

    provider: BrokerProvider
    reason: str
    order_ref: str = ""
    account_ref: str = ""
    remote: str = ""
    body: str = ""
    at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "broker_refused_postbacks"
        indexes = [IndexModel([("at", DESCENDING)], name="time")]


class PositionDifference(BaseModel):
    """One symbol where the club's books and the broker disagree (whole shares)."""

    symbol: str
    books: int
    broker: int


class PositionCheck(Document):
    """The comparison of a club's holdings with its broker's positions on ``check_date``
    (one per club and day; a later check the same day replaces it). Differences are shown to
    the treasurer and never corrected by the platform."""

    club_id: str
    check_date: str
    provider: BrokerProvider
    ok: bool
    differences: list[PositionDifference] = Field(default_factory=list)
    error: str = ""
    checked_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "broker_position_checks"
        indexes = [
            IndexModel(
                [("club_id", ASCENDING), ("check_date", ASCENDING)], unique=True, name="club_day"
            ),
        ]
