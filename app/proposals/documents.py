"""Stored shapes of proposals, current votes and the append-only vote history."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from app.clubs.documents import TieRule, VotingMode
from app.orders.documents import OrderSide
from app.proposals.tally import Choice
from app.realtime.eventlog import utcnow


class ProposalKind(StrEnum):
    """``investment``: buy or sell a symbol (an approved one becomes an order); ``rules``: a
    change of the club's rules (an approved one changes them); ``general``: anything else the
    club decides."""

    INVESTMENT = "investment"
    GENERAL = "general"
    RULES = "rules"


class ProposalStatus(StrEnum):
    """``open`` → ``approved`` | ``rejected`` | ``no_quorum`` (closed with an outcome) or
    ``cancelled``."""

    OPEN = "open"
    APPROVED = "approved"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"
    CANCELLED = "cancelled"


class CloseReason(StrEnum):
    DEADLINE = "deadline"
    EARLY = "closed_early"
    CANCELLED = "cancelled"


class StoredTally(BaseModel):
    """A tally as stored (integers; weights in the proposal's weight unit)."""

    yes_weight: int = 0
    no_weight: int = 0
    abstain_weight: int = 0
    yes_count: int = 0
    no_count: int = 0
    abstain_count: int = 0
    total_weight: int = 0
    eligible_count: int = 0
    quorum_met: bool = False
    threshold_met: bool = False
    tie: bool = False
    outcome: str = "rejected"


class Proposal(Document):
    """A question put to the club, with the club's rules and everyone's weight copied on at
    creation (docs/domain.md, voting: weights are snapshotted; later contributions change nothing).

    ``weights``: user id → weight (1 each in simple mode, micro-units in weighted mode).
    ``tally``: the current votes counted (kept live; shown per the ``hide_running_results``
    rule). ``version`` is bumped by every vote and by the close, so a vote and a close (or two
    votes) never interleave: the second transaction conflicts and is retried.
    Investment fields: ``quantity`` shares or ``amount`` paise, ``limit_price`` paise. A rules
    proposal's ``rules``: the club rules it changes, by name, as the club stores them.
    """

    club_id: str
    created_by: str
    kind: ProposalKind
    title: str
    description: str = ""
    side: OrderSide | None = None
    symbol: str | None = None
    quantity: int | None = None
    amount: int | None = None
    limit_price: int | None = None
    rules: dict[str, str | int | bool | None] | None = None  # a rules proposal's changes
    deadline: dt.datetime
    remind_at: dt.datetime
    reminded_at: dt.datetime | None = None
    voting_mode: VotingMode
    threshold_bps: int
    quorum_bps: int | None
    tie_rule: TieRule
    hide_running_results: bool = False
    weights: dict[str, int]
    status: ProposalStatus = ProposalStatus.OPEN
    tally: StoredTally = Field(default_factory=StoredTally)
    close_reason: CloseReason | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    order_id: str | None = None
    seq: int = 0  # room seq of its proposal:created event
    version: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "proposals"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("created_at", ASCENDING)], name="club_time"),
            IndexModel([("status", ASCENDING), ("deadline", ASCENDING)], name="due"),
            IndexModel([("status", ASCENDING), ("remind_at", ASCENDING)], name="reminders"),
        ]


class Vote(Document):
    """A member's current vote on a proposal: one per (proposal, member), by a unique index."""

    proposal_id: str
    club_id: str
    user_id: str
    choice: Choice
    weight: int
    changes: int = 0
    cast_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "votes"
        indexes = [
            IndexModel([("proposal_id", ASCENDING), ("user_id", ASCENDING)], unique=True,
                       name="proposal_user_unique"),
        ]  # fmt: skip


class VoteRecord(Document):
    """Append-only history: every vote and change of vote (``previous`` None for the first)."""

    proposal_id: str
    user_id: str
    choice: Choice
    previous: Choice | None = None
    weight: int
    at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "vote_history"
        indexes = [IndexModel([("proposal_id", ASCENDING), ("at", ASCENDING)], name="proposal")]


class ProposalComment(Document):
    """One comment in a proposal's discussion thread (append-only). ``seq``: the club room's
    log seq of its ``proposal:comment`` event, so the thread's order is the room's order and a
    reconnecting screen catches up on it with the rest of the room."""

    proposal_id: str
    club_id: str
    author_id: str
    body: str
    seq: int = 0
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "proposal_comments"
        indexes = [IndexModel([("proposal_id", ASCENDING), ("seq", ASCENDING)], name="thread")]
