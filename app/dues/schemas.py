"""Dues payloads: the members × months grid and a waiver. Amounts are two-place decimal
strings; months "YYYY-MM"; dates ISO."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
DuesStatus = Literal["none", "pending", "paid", "late", "waived"]


class DuesCell(BaseModel):
    """One member's dues of one month: ``none`` (no dues then: before the club's dues began or
    the member joined), ``pending`` (not paid, not late yet), ``paid`` (the money arrived),
    ``late`` (unpaid after the grace days; the late fee, if any, is charged once), ``waived``."""

    month: str
    status: DuesStatus
    due_on: str
    late_after: str = Field(description="late from the day after this date")
    paid: str = Field(description="received toward it so far")
    late_fee_charged: bool = False


class DuesRow(BaseModel):
    user_id: str
    cells: list[DuesCell]


class DuesGrid(BaseModel):
    """``GET /clubs/{id}/dues``: the club's dues rule and a row per member (the treasury sees
    every member; a member their own row), months oldest first."""

    amount: str
    due_day: int
    grace_days: int
    late_fee: str
    currency: str
    since: str | None
    months: list[str]
    rows: list[DuesRow]


class DuesQuery(BaseModel):
    """``months``: how many months up to this one (1–12)."""

    months: int = Field(default=6, ge=1, le=12)


class WaiverCreate(BaseModel):
    """``POST /clubs/{id}/dues/waivers``: excuse a member from one month's dues."""

    user_id: str = Field(min_length=1, max_length=64)
    month: str = Field(pattern=MONTH)
    reason: str = Field(min_length=3, max_length=200)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 3:
            raise ValueError("say why in a few words")
        return value


class WaiverOut(BaseModel):
    user_id: str
    month: str
    reason: str
    waived_by: str
