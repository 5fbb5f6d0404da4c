"""Stored shapes of clubs, memberships, invites, contributions, withdrawals, valuations and
holdings. Money in paise, units in micro-units, rates in basis points."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ClubRole(StrEnum):
    """Roles inside one club (docs/domain.md, roles): owner > admin > treasurer > member."""

    OWNER = "owner"
    ADMIN = "admin"
    TREASURER = "treasurer"
    MEMBER = "member"


class VotingMode(StrEnum):
    """``simple``: one member, one vote; ``weighted``: weight = units held."""

    SIMPLE = "simple"
    WEIGHTED = "weighted"


class TieRule(StrEnum):
    """What a vote exactly at the threshold decides (docs/domain.md, voting: default reject)."""

    REJECT = "reject"
    APPROVE = "approve"


class RulesAuthority(StrEnum):
    """Who changes a club's rules after creation: its ``owners`` directly (the default), or the
    members by a rules ``vote`` (a rules proposal; owners may then no longer patch them)."""

    OWNERS = "owners"
    VOTE = "vote"


class Club(Document):
    """A club and its rules. ``money_seq`` is bumped by every money transaction of the club,
    so two such transactions never interleave (the second conflicts and is retried)."""

    name: str
    description: str = ""
    currency: str = "INR"
    starting_unit_value: int = 1000  # paise per unit: ₹10.00
    voting_mode: VotingMode = VotingMode.SIMPLE
    approval_threshold_bps: int = 6000
    quorum_bps: int | None = None
    tie_rule: TieRule = TieRule.REJECT
    hide_running_results: bool = False  # proposals show only participation until they close
    withdrawal_fee_bps: int = 0
    rules_changed_by: RulesAuthority = RulesAuthority.OWNERS
    # Monthly dues (issue #14): paise per member a month (0: none), due on ``dues_day`` of the
    # month, late after ``dues_grace_days`` more days, when ``dues_late_fee`` paise are charged
    # once; ``dues_since`` ("YYYY-MM") is the first month with dues.
    dues_amount: int = 0
    dues_day: int = 1
    dues_grace_days: int = 5
    dues_late_fee: int = 0
    dues_since: str | None = None
    created_by: str
    created_at: dt.datetime = Field(default_factory=_now)
    money_seq: int = 0
    last_valuation_date: str | None = None
    watchlist: list[str] = Field(default_factory=list)  # symbols members follow live
    # A robo-advice personal account (app/advisory): a one-member "club" that holds one
    # person's own money. It trades and is booked like a club but is not listed among clubs
    # and takes no invites.
    personal: bool = False

    class Settings:
        name = "clubs"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    LEFT = "left"
    REMOVED = "removed"


class Membership(Document):
    """One person in one club: role, units (micro-units) and capital account totals (paise)."""

    club_id: str
    user_id: str
    role: ClubRole = ClubRole.MEMBER
    status: MembershipStatus = MembershipStatus.ACTIVE
    units: int = 0
    paid_in: int = 0
    withdrawn: int = 0
    joined_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "memberships"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("user_id", ASCENDING)], unique=True,
                       name="club_user_unique"),
            IndexModel([("user_id", ASCENDING)], name="by_user"),
        ]  # fmt: skip


class Invite(Document):
    """A join link. Only the SHA-256 of its token is stored."""

    club_id: str
    token_hash: str
    created_by: str
    expires_at: dt.datetime
    max_uses: int
    uses: int = 0
    revoked: bool = False
    created_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "invites"
        indexes = [IndexModel([("token_hash", ASCENDING)], unique=True, name="token_unique")]
