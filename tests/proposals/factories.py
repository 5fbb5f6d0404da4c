"""Builders for proposal tests: clubs with members holding given units, proposals, votes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.clubs.documents import Club, Membership
from app.proposals.documents import Proposal
from app.proposals.schemas import ProposalCreate
from app.proposals.service import proposal_service
from tests.clubs.factories import club_with_members


async def club_with_units(units: list[int], **rules: Any) -> tuple[Club, list[str]]:
    """A club whose members hold ``units`` (micro-units each, in join order)."""
    club, users = await club_with_members(len(units), **rules)
    for user, held in zip(users, units, strict=True):
        await Membership.get_pymongo_collection().update_one(
            {"club_id": str(club.id), "user_id": user}, {"$set": {"units": held}}
        )
    return club, users


def general(seconds: float = 120, **fields: Any) -> ProposalCreate:
    """A general proposal closing ``seconds`` from now."""
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return ProposalCreate.model_validate(
        {"kind": "general", "title": "Move the meeting to Sunday", "deadline": deadline, **fields}
    )


def investment(seconds: float = 120, **fields: Any) -> ProposalCreate:
    """Buy 10 AAPL at a limit of 550.00, closing ``seconds`` from now."""
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    body = {"kind": "investment", "title": "Buy Apple", "side": "buy", "symbol": "aapl",
            "quantity": 10, "limit_price": "550.00", "deadline": deadline, **fields}  # fmt: skip
    return ProposalCreate.model_validate(body)


async def open_proposal(club: Club, by: str, data: ProposalCreate | None = None) -> Proposal:
    return await proposal_service.do_create(str(club.id), by, data or general())
