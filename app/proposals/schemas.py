"""Proposal and vote payloads: requests (HTTP and socket), what clients see, and the room events
``proposal:created``, ``vote:tally``, ``proposal:closed``, ``proposal:cancelled``.

Weights are integers in ``weight_unit``: ``vote`` (simple mode, one each) or ``micro_unit``
(weighted mode, the units a member held at creation, in millionths). Amounts and prices are
two-place decimal strings. ``*_bps`` shares are for display only (rounded half-even); outcomes
are decided on the integers.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.clubs.documents import TieRule, VotingMode
from app.clubs.schemas import RulesChange, rules_out
from app.money import Paise, format_minor
from app.orders.documents import OrderSide
from app.proposals.documents import (
    CloseReason,
    Proposal,
    ProposalComment,
    ProposalKind,
    ProposalStatus,
    StoredTally,
    Vote,
)
from app.proposals.tally import Choice
from app.realtime.contract import RoomEvent
from app.realtime.eventlog import iso


def _share_bps(part: int, whole: int) -> int | None:
    if whole <= 0:
        return None
    return int((Decimal(part) * 10_000 / Decimal(whole)).quantize(Decimal(1), ROUND_HALF_EVEN))


class ProposalCreate(BaseModel):
    """``POST /api/v1/clubs/{id}/proposals``.

    ``investment``: ``side`` and ``symbol``, and ``quantity`` (shares) or — to buy only —
    ``amount`` (money to invest, in the club's currency — for a stock quoted in another, the
    order converts its price at the ECB rate when it is sent); optional ``limit_price`` (in the
    stock's currency). ``rules``: ``rules``, the club rules
    to change (the fields of ``PATCH /clubs/{id}/rules``; ``quorum_bps`` null removes the
    quorum), in a club whose rules change by vote. ``general``: none of those.
    ``deadline``: ISO-8601 with a time zone. ``hide_running_results``: default the club's rule.
    ``threshold_bps``: a stricter approval threshold for this proposal alone (basis points, at
    least the club's; e.g. 10000 to sell everything only unanimously); default the club's.
    """

    kind: ProposalKind
    title: str = Field(min_length=3, max_length=140)
    description: str = Field(default="", max_length=5000)
    side: OrderSide | None = None
    symbol: str | None = Field(default=None, max_length=16)
    quantity: int | None = Field(default=None, ge=1, le=10**12)
    amount: Paise | None = None
    limit_price: Paise | None = None
    deadline: dt.datetime
    hide_running_results: bool | None = None
    threshold_bps: int | None = Field(default=None, ge=1, le=10_000)
    rules: RulesChange | None = None

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        value = value.strip()
        if len(value) < 3:
            raise ValueError("a title needs at least 3 characters")
        return value

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = value.strip().upper()
        if not cleaned or not cleaned.replace(".", "").isalnum():
            raise ValueError(f"not a symbol: {value!r}")
        return cleaned

    @field_validator("deadline")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise ValueError("give the deadline with a time zone, e.g. 2026-05-01T18:00:00+05:30")
        return value.astimezone(dt.UTC)

    @model_validator(mode="after")
    def _fits(self) -> ProposalCreate:
        money = (self.side, self.symbol, self.quantity, self.amount, self.limit_price)
        if self.kind is ProposalKind.RULES:
            if any(v is not None for v in money):
                raise ValueError("a rules proposal has no side, symbol, quantity or prices")
            if self.rules is None or not self.rules.changes():
                raise ValueError("a rules proposal names at least one rule to change")
            return self
        if self.rules is not None:
            raise ValueError("only a rules proposal changes rules")
        if self.kind is ProposalKind.GENERAL:
            if any(v is not None for v in money):
                raise ValueError("a general proposal has no side, symbol, quantity or prices")
            return self
        if self.side is None or self.symbol is None:
            raise ValueError("an investment proposal needs a side and a symbol")
        if (self.quantity is None) == (self.amount is None):
            raise ValueError("give either a quantity or an amount")
        if self.amount is not None and self.side is OrderSide.SELL:
            raise ValueError("a sale is proposed by quantity")
        for name in ("amount", "limit_price"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be more than zero")
        return self


class VoteCast(BaseModel):
    """``POST /api/v1/proposals/{id}/votes``: ``{"choice": "yes" | "no" | "abstain"}``."""

    choice: Choice


class SocketVoteCast(VoteCast):
    """``vote:cast``."""

    proposal_id: str = Field(min_length=1, max_length=64)


class TallyOut(BaseModel):
    """Where the vote stands. While a proposal hides running results, only participation and
    quorum are shown (the rest is null) until it closes."""

    hidden: bool
    weight_unit: Literal["vote", "micro_unit"]
    yes_weight: int | None
    no_weight: int | None
    abstain_weight: int | None
    yes_count: int | None
    no_count: int | None
    abstain_count: int | None
    participation_count: int
    participation_weight: int
    eligible_count: int
    total_weight: int
    participation_bps: int | None
    yes_bps: int | None = Field(description="yes share of the cast yes+no weight (display)")
    quorum_met: bool
    threshold_met: bool | None
    tie: bool | None
    outcome_if_closed_now: str | None

    @classmethod
    def of(cls, proposal: Proposal) -> TallyOut:
        t: StoredTally = proposal.tally
        hidden = proposal.hide_running_results and proposal.status is ProposalStatus.OPEN
        participation = t.yes_weight + t.no_weight + t.abstain_weight

        def shown(value: int | bool | str) -> int | bool | str | None:
            return None if hidden else value

        return cls(
            hidden=hidden,
            weight_unit="vote" if proposal.voting_mode is VotingMode.SIMPLE else "micro_unit",
            yes_weight=shown(t.yes_weight), no_weight=shown(t.no_weight),
            abstain_weight=shown(t.abstain_weight), yes_count=shown(t.yes_count),
            no_count=shown(t.no_count), abstain_count=shown(t.abstain_count),
            participation_count=t.yes_count + t.no_count + t.abstain_count,
            participation_weight=participation, eligible_count=t.eligible_count,
            total_weight=t.total_weight,
            participation_bps=_share_bps(participation, t.total_weight),
            yes_bps=None if hidden else _share_bps(t.yes_weight, t.yes_weight + t.no_weight),
            quorum_met=t.quorum_met, threshold_met=shown(t.threshold_met),
            tie=shown(t.tie), outcome_if_closed_now=shown(t.outcome),
        )  # fmt: skip


class ProposalOut(BaseModel):
    """A proposal as every member sees it. ``weights``: the snapshot (user id → weight)."""

    id: str
    club_id: str
    created_by: str
    kind: ProposalKind
    title: str
    description: str
    side: OrderSide | None
    symbol: str | None
    quantity: int | None
    amount: str | None
    limit_price: str | None
    rules: dict[str, str | int | bool | None] | None = Field(
        default=None,
        description="a rules proposal: the club rules it changes, by name (amounts as "
        "decimal strings, rates in basis points)",
    )
    deadline: str
    voting_mode: VotingMode
    threshold_bps: int
    quorum_bps: int | None
    tie_rule: TieRule
    hide_running_results: bool
    weights: dict[str, int]
    status: ProposalStatus
    close_reason: CloseReason | None
    closed_at: str | None
    closed_by: str | None
    order_id: str | None
    tally: TallyOut
    created_at: str

    @classmethod
    def of(cls, p: Proposal) -> ProposalOut:
        return cls(
            id=str(p.id), club_id=p.club_id, created_by=p.created_by, kind=p.kind, title=p.title,
            description=p.description, side=p.side, symbol=p.symbol, quantity=p.quantity,
            amount=None if p.amount is None else format_minor(p.amount),
            limit_price=None if p.limit_price is None else format_minor(p.limit_price),
            rules=None if p.rules is None else rules_out(p.rules), deadline=iso(p.deadline),
            voting_mode=p.voting_mode,
            threshold_bps=p.threshold_bps, quorum_bps=p.quorum_bps, tie_rule=p.tie_rule,
            hide_running_results=p.hide_running_results, weights=p.weights, status=p.status,
            close_reason=p.close_reason, closed_at=iso(p.closed_at) if p.closed_at else None,
            closed_by=p.closed_by, order_id=p.order_id, tally=TallyOut.of(p),
            created_at=iso(p.created_at),
        )  # fmt: skip


class ProposalView(ProposalOut):
    """``GET /api/v1/proposals/{id}``: the proposal and the caller's own vote."""

    my_vote: Choice | None
    my_weight: int | None


class ProposalList(BaseModel):
    proposals: list[ProposalOut]


class ProposalQuery(BaseModel):
    """``status``: ``open`` or ``closed`` (anything not open); default all. ``limit`` 1–100."""

    status: Literal["open", "closed"] | None = None
    limit: int = Field(default=50, ge=1, le=100)


class VoteOut(BaseModel):
    """A member's current vote. ``changed``: this request changed something (false: it was
    already the current vote)."""

    proposal_id: str
    user_id: str
    choice: Choice
    weight: int
    changes: int
    cast_at: str
    updated_at: str
    changed: bool

    @classmethod
    def of(cls, vote: Vote, changed: bool) -> VoteOut:
        return cls(
            proposal_id=vote.proposal_id, user_id=vote.user_id, choice=vote.choice,
            weight=vote.weight, changes=vote.changes, cast_at=iso(vote.cast_at),
            updated_at=iso(vote.updated_at), changed=changed,
        )  # fmt: skip


class CancelRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


class ProposalCreatedEvent(RoomEvent):
    """``proposal:created``: a new open proposal."""

    proposal: ProposalOut


class VoteTallyEvent(RoomEvent):
    """``vote:tally``: the tally after a vote (or a change of vote). Who voted how is not
    disclosed; hidden tallies show participation only."""

    proposal_id: str
    tally: TallyOut


class ProposalClosedEvent(RoomEvent):
    """``proposal:closed``: the outcome and final tally (and ``order_id`` if an order was
    created for the treasurer)."""

    proposal: ProposalOut


class ProposalCancelledEvent(RoomEvent):
    """``proposal:cancelled``: withdrawn before it closed; no outcome."""

    proposal: ProposalOut
    reason: str


# How long a comment may be, and how many a thread holds (a discussion, not a chat room).
COMMENT_MAX_CHARS = 2000
THREAD_MAX_COMMENTS = 500


class CommentCreate(BaseModel):
    """``POST /api/v1/proposals/{id}/comments``: ``body``, 1–2000 characters once trimmed."""

    body: str = Field(min_length=1, max_length=COMMENT_MAX_CHARS)

    @field_validator("body")
    @classmethod
    def _body(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("write something first")
        return value


class CommentBody(BaseModel):
    """A comment of a proposal's discussion, as its room event carries it (the event's own
    ``seq`` is the comment's place in the thread)."""

    id: str
    proposal_id: str
    author_id: str
    body: str
    created_at: str


class CommentOut(CommentBody):
    """A comment of a proposal's discussion; ``seq`` orders the thread (the room's seq)."""

    seq: int

    @classmethod
    def of(cls, c: ProposalComment) -> CommentOut:
        return cls(
            id=str(c.id), proposal_id=c.proposal_id, author_id=c.author_id, body=c.body,
            seq=c.seq, created_at=iso(c.created_at),
        )  # fmt: skip


class CommentList(BaseModel):
    """A page of the thread, oldest first; ``next_after``: pass as ``after`` for more (null at
    the end)."""

    comments: list[CommentOut]
    next_after: int | None


class CommentQuery(BaseModel):
    """``after``: the room seq of the last comment you have (0: from the start); ``limit``
    1–200."""

    after: int = Field(default=0, ge=0, le=2**53)
    limit: int = Field(default=100, ge=1, le=200)


class ProposalCommentEvent(RoomEvent):
    """``proposal:comment``: a new comment in a proposal's discussion (in the room's log, so a
    reconnecting screen catches up on it); its ``seq`` is the comment's place in the thread."""

    proposal_id: str
    comment: CommentBody
