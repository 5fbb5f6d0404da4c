"""Request and response shapes of the clubs API. Amounts are two-place decimal strings
(``"5456.25"``), units six-place strings (micro-units), rates basis points, dates ISO."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, field_validator

from app.clubs.documents import ClubRole, RulesAuthority, TieRule, VotingMode
from app.market.schemas import normalise_symbols
from app.money import Paise, format_minor


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be more than zero")
    return value


class ClubCreate(BaseModel):
    """``POST /api/v1/clubs``."""

    name: str = Field(min_length=2, max_length=80)
    description: str = Field(default="", max_length=2000)
    currency: Literal["INR", "USD", "EUR", "GBP"] = "INR"
    starting_unit_value: Paise = Field(default="10.00", validate_default=True)
    voting_mode: VotingMode = VotingMode.SIMPLE
    approval_threshold_bps: int = Field(default=6000, ge=1, le=10_000)
    quorum_bps: int | None = Field(default=None, ge=1, le=10_000)
    tie_rule: TieRule = TieRule.REJECT
    hide_running_results: bool = Field(
        default=False, description="proposals show only participation until they close"
    )
    withdrawal_fee_bps: int = Field(default=0, ge=0, le=2_000, description="0 = no fee")

    @field_validator("starting_unit_value")
    @classmethod
    def _start_positive(cls, value: int) -> int:
        return _positive(value)

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 2:
            raise ValueError("a name needs at least 2 characters")
        return value


MONEY_RULES = ("dues_amount", "dues_late_fee")


def rules_out(rules: Mapping[str, object]) -> dict[str, str | int | bool | None]:
    """Rules by name as the API shows them: amounts (paise when stored) as two-place decimal
    strings like every amount, everything else as stored (rates in basis points)."""
    out: dict[str, str | int | bool | None] = {}
    for name, value in rules.items():
        if name in MONEY_RULES and isinstance(value, int) and not isinstance(value, bool):
            out[name] = format_minor(value)
        elif value is None or isinstance(value, str | int | bool):
            out[name] = value
        else:
            out[name] = str(value)
    return out


class RulesChange(BaseModel):
    """``PATCH /api/v1/clubs/{id}/rules`` (owners): only the rules given change; ``quorum_bps``
    null removes the quorum. Open proposals keep the rules they were opened with."""

    voting_mode: VotingMode | None = None
    approval_threshold_bps: int | None = Field(default=None, ge=1, le=10_000)
    quorum_bps: int | None = Field(default=None, ge=1, le=10_000)
    tie_rule: TieRule | None = None
    hide_running_results: bool | None = None
    withdrawal_fee_bps: int | None = Field(default=None, ge=0, le=2_000)
    rules_changed_by: RulesAuthority | None = None
    dues_amount: Paise | None = Field(default=None, description="a month, per member; 0.00: none")
    dues_day: int | None = Field(default=None, ge=1, le=28, description="day of the month due")
    dues_grace_days: int | None = Field(default=None, ge=0, le=28)
    dues_late_fee: Paise | None = Field(default=None, description="charged once a month is late")

    @field_validator("dues_amount", "dues_late_fee")
    @classmethod
    def _dues_money(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 10_000_000_00:
            raise ValueError("an amount between 0.00 and 10000000.00")
        return value

    def changes(self) -> dict[str, object]:
        """The rules given (by name), ``quorum_bps`` included when sent as null."""
        given = self.model_dump(include=self.model_fields_set, mode="json")
        return {k: v for k, v in given.items() if v is not None or k == "quorum_bps"}


class ClubOut(BaseModel):
    """A club's rules and the caller's role in it."""

    id: str
    name: str
    description: str
    currency: str
    starting_unit_value: str
    voting_mode: VotingMode
    approval_threshold_bps: int
    quorum_bps: int | None
    tie_rule: TieRule
    withdrawal_fee_bps: int
    hide_running_results: bool = False
    rules_changed_by: RulesAuthority = Field(
        default=RulesAuthority.OWNERS,
        description="owners patch the rules, or members change them by a rules proposal",
    )
    dues_amount: str = Field(default="0.00", description="monthly dues per member; 0.00: none")
    dues_day: int = 1
    dues_grace_days: int = 5
    dues_late_fee: str = "0.00"
    dues_since: str | None = None
    created_at: dt.datetime
    last_valuation_date: str | None
    my_role: ClubRole
    personal: bool = False  # a robo-advice personal account (one member, listed under advice)


class ClubList(BaseModel):
    clubs: list[ClubOut]


class AdminClubOut(BaseModel):
    """A club as the platform's admin console lists it."""

    id: str
    name: str
    currency: str
    voting_mode: VotingMode
    members: int
    last_valuation_date: str | None
    created_at: dt.datetime
    created_by: str


class AdminClubList(BaseModel):
    clubs: list[AdminClubOut]
    total: int
    page: int
    page_size: int


class AdminClubQuery(BaseModel):
    """``?q=<part of the name>&page=1&page_size=50``."""

    q: str | None = Field(default=None, max_length=80)
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=50, ge=1, le=200)


class MemberOut(BaseModel):
    user_id: str
    role: ClubRole
    joined_at: dt.datetime
    full_name: str | None = None
    member_id: str | None = None


class MemberList(BaseModel):
    members: list[MemberOut]


class InviteCreate(BaseModel):
    """``POST /api/v1/clubs/{id}/invites``: lifetime in hours and how many may join by it;
    ``emails``: addresses (up to 20) the link is also mailed to, naming the club and inviter."""

    expires_in_hours: int = Field(default=72, ge=1, le=24 * 30)
    max_uses: int = Field(default=10, ge=1, le=1000)
    emails: list[EmailStr] = Field(default_factory=list, max_length=20)


class InviteOut(BaseModel):
    """An invite; ``token`` and ``url`` only in the creation response (stored hashed)."""

    id: str
    club_id: str
    expires_at: dt.datetime
    max_uses: int
    uses: int
    revoked: bool
    token: str | None = None
    url: str | None = None


class JoinOut(BaseModel):
    club: ClubOut


class LeftClub(BaseModel):
    """``POST /api/v1/clubs/{id}/leave``: the caller is no longer a member."""

    left: bool


class MemberRemoved(BaseModel):
    """``DELETE /api/v1/clubs/{id}/members/{user_id}``: the member is removed."""

    removed: bool


class InvitePreview(BaseModel):
    """``GET /api/v1/invites/{token}``: what a person invited sees before joining — the club,
    who invited them and the club's rules (shares in basis points, amounts as decimals)."""

    club_id: str
    club_name: str
    description: str
    currency: str
    invited_by: str
    members: int
    voting_mode: VotingMode
    approval_threshold_bps: int
    quorum_bps: int | None
    tie_rule: TieRule
    withdrawal_fee_bps: int
    starting_unit_value: str
    expires_at: dt.datetime


class RoleChange(BaseModel):
    role: ClubRole


class Watchlist(BaseModel):
    """The symbols a club follows live (its holdings are followed anyway)."""

    symbols: list[str] = Field(max_length=50)

    @field_validator("symbols")
    @classmethod
    def _normalise(cls, symbols: list[str]) -> list[str]:
        return normalise_symbols(symbols)
