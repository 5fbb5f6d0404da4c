"""Proposals and voting (docs/domain.md, voting): create with the club's rules and a
weight snapshot, vote and change votes until close, close on the deadline (the worker's timer),
early or by cancelling; the outcome is counted exactly (tally.py) and stored with the tally; an
approved investment creates an order for the treasurer.

Races: every vote and every close writes the proposal document (``version``) in its
transaction, so a vote and a close — or two votes — never interleave: the later one conflicts,
is retried by the driver and then sees the other's result (a vote after the close is refused
with ``voting_closed``). One current vote per member is also enforced by a unique index.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.audit.service import audit_service, club_chain
from app.clubs.documents import Club, TieRule, VotingMode
from app.clubs.errors import ClubNotFound
from app.clubs.service import MANAGERS, club_service
from app.config import get_settings
from app.db import run_in_transaction
from app.market.service import market_service
from app.money import format_minor
from app.notifications.documents import Notification, NotificationKind
from app.notifications.service import Draft, notification_service
from app.orders.service import order_service
from app.proposals import repository
from app.proposals.documents import (
    CloseReason,
    Proposal,
    ProposalComment,
    ProposalKind,
    ProposalStatus,
    StoredTally,
    Vote,
    VoteRecord,
)
from app.proposals.errors import (
    DiscussionFull,
    InvalidProposal,
    NotAllowed,
    NotEligible,
    NoVotingWeight,
    ProposalNotFound,
    ProposalNotOpen,
    VotingClosed,
)
from app.proposals.schemas import (
    THREAD_MAX_COMMENTS,
    CommentBody,
    CommentOut,
    ProposalCancelledEvent,
    ProposalClosedEvent,
    ProposalCommentEvent,
    ProposalCreate,
    ProposalCreatedEvent,
    ProposalOut,
    TallyOut,
    VoteTallyEvent,
)
from app.proposals.tally import Choice, Outcome, count
from app.ratelimit import rate_limiter
from app.realtime import events
from app.realtime.eventlog import utcnow
from app.realtime.rooms import club_room

PROPOSAL_CREATED = "proposal:created"
PROPOSAL_CLOSED = "proposal:closed"
PROPOSAL_CANCELLED = "proposal:cancelled"
VOTE_TALLY = "vote:tally"
PROPOSAL_COMMENT = "proposal:comment"
# Leeway on the shortest voting window for the time a request takes to arrive.
DEADLINE_SLACK = dt.timedelta(seconds=60)


def in_words(seconds: int) -> str:
    """A whole duration for people: ``300`` → ``"5 minutes"``, ``86400`` → ``"1 day"``; the
    largest of days, hours, minutes and seconds that divides it exactly."""
    for size, name in ((86_400, "day"), (3_600, "hour"), (60, "minute"), (1, "second")):
        if seconds % size == 0 and seconds >= size:
            amount = seconds // size
            return f"{amount} {name}{'' if amount == 1 else 's'}"
    return "0 seconds"


def percent(bps: int) -> str:
    """Basis points for people: ``6000`` → ``"60 %"``, ``6667`` → ``"66.67 %"``."""
    whole, rest = divmod(bps, 100)
    return f"{whole} %" if rest == 0 else f"{whole}.{rest:02d} %".replace("0 %", " %")


_RULE_NAMES = {
    "voting_mode": "voting", "approval_threshold_bps": "approval threshold",
    "quorum_bps": "quorum", "tie_rule": "tie rule", "hide_running_results": "running results",
    "withdrawal_fee_bps": "withdrawal fee", "rules_changed_by": "rules changed by",
    "dues_amount": "monthly dues", "dues_day": "dues day", "dues_grace_days": "grace days",
    "dues_late_fee": "late fee",
}  # fmt: skip
_MONEY_RULES = ("dues_amount", "dues_late_fee")


def rules_in_words(rules: dict[str, str | int | bool | None]) -> str:
    """A rules change for people: ``{"approval_threshold_bps": 5000, "quorum_bps": None}`` →
    ``"approval threshold 50 %, quorum none"`` (rates in percent, not basis points)."""
    parts = []
    for name, value in rules.items():
        if value is None:
            shown = "none"
        elif name.endswith("_bps") and isinstance(value, int):
            shown = percent(value)
        elif name in _MONEY_RULES and isinstance(value, int):
            shown = format_minor(value)
        elif isinstance(value, bool):
            shown = "hidden until close" if value else "shown"
        else:
            shown = str(value)
        parts.append(f"{_RULE_NAMES.get(name, name)} {shown}")
    return ", ".join(parts)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def stored_tally(proposal: Proposal, votes: dict[str, Choice]) -> StoredTally:
    """Count ``votes`` against the proposal's snapshot and rules (tally.py)."""
    t = count(
        proposal.weights, votes, threshold_bps=proposal.threshold_bps,
        quorum_bps=proposal.quorum_bps, tie_approves=proposal.tie_rule is TieRule.APPROVE,
    )  # fmt: skip
    return StoredTally(
        yes_weight=t.yes_weight, no_weight=t.no_weight, abstain_weight=t.abstain_weight,
        yes_count=t.yes_count, no_count=t.no_count, abstain_count=t.abstain_count,
        total_weight=t.total_weight, eligible_count=t.eligible_count, quorum_met=t.quorum_met,
        threshold_met=t.threshold_met, tie=t.tie, outcome=t.outcome.value,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class VoteResult:
    """The member's current vote, whether this call changed it, and the proposal after it."""

    vote: Vote
    changed: bool
    proposal: Proposal


def _outcome_title(p: Proposal) -> str:
    return {
        ProposalStatus.APPROVED: "approved",
        ProposalStatus.REJECTED: "rejected",
        ProposalStatus.NO_QUORUM: "closed without quorum",
    }.get(p.status, p.status.value)


class ProposalService:
    """Takes the acting user's id explicitly; ``None`` is the platform (the worker's timer)."""

    # ---- reading --------------------------------------------------------------------------

    async def check_visible(self, proposal_id: str, user_id: str) -> Proposal:
        """The proposal, if the user is an active member of its club. Raises
        ``ProposalNotFound`` otherwise (its existence is not revealed)."""
        proposal = await repository.get(proposal_id)
        if proposal is None:
            raise ProposalNotFound("no such proposal")
        try:
            await club_service.check_member(proposal.club_id, user_id)
        except ClubNotFound as exc:
            raise ProposalNotFound("no such proposal") from exc
        return proposal

    async def view(self, proposal_id: str, user_id: str) -> tuple[Proposal, Vote | None]:
        """The proposal and the caller's current vote."""
        proposal = await self.check_visible(proposal_id, user_id)
        return proposal, await repository.current_vote(proposal_id, user_id)

    async def list_of_club(
        self, club_id: str, user_id: str, status: str | None, limit: int
    ) -> list[Proposal]:
        """The club's proposals, newest first. Raises ``ClubNotFound`` for non-members."""
        await club_service.check_member(club_id, user_id)
        return await repository.of_club(club_id, status, limit)

    async def vote_history(self, proposal_id: str, user_id: str) -> list[VoteRecord]:
        """Every vote and change on a closed proposal (owner/admin may see it while open too).
        Raises ``ProposalNotFound``, ``NotAllowed`` (open proposal, not a manager)."""
        proposal = await self.check_visible(proposal_id, user_id)
        if proposal.status is ProposalStatus.OPEN:
            _, membership = await club_service.check_member(proposal.club_id, user_id)
            if membership.role not in MANAGERS:
                raise NotAllowed("the votes are shown once the proposal closes")
        return await repository.history(proposal_id)

    # ---- creating -------------------------------------------------------------------------

    async def do_create(self, club_id: str, actor_id: str, data: ProposalCreate) -> Proposal:
        """Open a proposal (any active member). Copies the club's voting mode, threshold,
        quorum, tie rule and running-results rule; snapshots every active member's weight.

        Raises:
            ClubNotFound, InvalidProposal (deadline outside the allowed window),
            UnknownSymbols (404 ``unknown_symbol``), NoVotingWeight (weighted, no units yet),
            FxRateUnavailable (422: no ECB rate between the instrument's currency and the club's),
            RulesByOwners (409: a rules proposal where owners change the rules),
            NoRulesChange (422: a rules proposal that changes nothing).
        """
        settings = get_settings()
        club, _ = await club_service.check_member(club_id, actor_id)
        now = utcnow()
        earliest = now + dt.timedelta(seconds=settings.proposal_min_open_seconds)
        latest = now + dt.timedelta(days=settings.proposal_max_open_days)
        # A form's "5 minutes from now" reaches us a moment later (and clocks drift): the
        # shortest window is measured with DEADLINE_SLACK of leeway, never reaching the past.
        if not max(now, earliest - DEADLINE_SLACK) < data.deadline <= latest:
            raise InvalidProposal(
                f"The deadline must be at least {in_words(settings.proposal_min_open_seconds)} "
                f"and at most {in_words(settings.proposal_max_open_days * 86_400)} from now.",
                details={"earliest": earliest.isoformat(), "latest": latest.isoformat()},
            )
        rules = None
        if data.kind is ProposalKind.RULES and data.rules is not None:
            rules = club_service.check_rules_proposal(club, data.rules.changes())
        if data.symbol is not None:
            await market_service.check_symbols([data.symbol])
        if data.kind is ProposalKind.INVESTMENT and data.symbol is not None:
            # an approved investment becomes an order: one the club could never trade is
            # refused now, not after the vote
            await order_service.check_instrument(club.currency, data.symbol)
        room = club_room(club_id)
        await events.ensure_room(room)
        members = await club_service.active_members(club_id)
        await notification_service.prepare([m.user_id for m in members])

        async def do(session: AsyncClientSession) -> Proposal:
            club_now, _ = await club_service.check_member(club_id, actor_id, session=session)
            if rules is not None:
                club_service.check_rules_proposal(club_now, rules)
            active = await club_service.active_members(club_id, session)
            threshold = data.threshold_bps or club_now.approval_threshold_bps
            if threshold < club_now.approval_threshold_bps:
                raise InvalidProposal(
                    "A proposal can ask for a higher approval threshold than the club's "
                    f"{percent(club_now.approval_threshold_bps)}, never a lower one.",
                    details={"club_threshold_bps": club_now.approval_threshold_bps},
                )
            weighted = club_now.voting_mode is VotingMode.WEIGHTED
            weights = {m.user_id: (m.units if weighted else 1) for m in active}
            if weighted and sum(weights.values()) == 0:
                raise NoVotingWeight("weighted voting needs members holding units; none do yet")
            remind_at = max(
                data.deadline - dt.timedelta(seconds=settings.proposal_reminder_seconds),
                now + (data.deadline - now) / 2,
            )
            hide = data.hide_running_results
            if hide is None:
                hide = bool(getattr(club_now, "hide_running_results", False))
            proposal = Proposal(
                id=PydanticObjectId(), club_id=club_id, created_by=actor_id, kind=data.kind,
                title=data.title, description=data.description, side=data.side,
                symbol=data.symbol, quantity=data.quantity, amount=data.amount,
                limit_price=data.limit_price, rules=rules, deadline=data.deadline,
                remind_at=remind_at,
                voting_mode=club_now.voting_mode, threshold_bps=threshold,
                quorum_bps=club_now.quorum_bps, tie_rule=club_now.tie_rule,
                hide_running_results=hide, weights=weights, created_at=now,
            )  # fmt: skip
            proposal.tally = stored_tally(proposal, {})
            event = await events.room_event(
                session, room, PROPOSAL_CREATED, ProposalCreatedEvent, club_id=club_id,
                proposal=ProposalOut.of(proposal),
            )  # fmt: skip
            proposal.seq = int(event.data["seq"])
            await repository.insert(proposal, session)
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="proposal.created",
                target_type="proposal", target_id=str(proposal.id),
                details={"kind": data.kind.value, "title": data.title, "rules": rules,
                         "deadline": data.deadline.isoformat(), "voting_mode":
                         proposal.voting_mode.value, "threshold_bps": proposal.threshold_bps,
                         "quorum_bps": proposal.quorum_bps, "tie_rule": proposal.tie_rule.value,
                         "total_weight": sum(weights.values()), "eligible": len(weights)},
                session=session,
            )  # fmt: skip
            drafts = [
                Draft(user_id=user, kind=NotificationKind.PROPOSAL_CREATED,
                      title=f"New proposal in {club_now.name}: {proposal.title}",
                      body=self._summary(proposal), club_id=club_id, ref_type="proposal",
                      ref_id=str(proposal.id))
                for user in weights if user != actor_id
            ]  # fmt: skip
            await notification_service.do_store(session, drafts)
            return proposal

        return await run_in_transaction(do)

    @staticmethod
    def _summary(p: Proposal) -> str:
        deadline = _aware(p.deadline).strftime("%d %b %Y %H:%M UTC")
        if p.kind is ProposalKind.INVESTMENT and p.side is not None:
            size = f"{p.quantity} shares" if p.quantity else f"{format_minor(p.amount or 0)} of"
            limit = f" at a limit of {format_minor(p.limit_price)}" if p.limit_price else ""
            return f"{p.side.value.title()} {size} {p.symbol}{limit}. Vote by {deadline}."
        if p.kind is ProposalKind.RULES and p.rules:
            return f"Change the club's rules: {rules_in_words(p.rules)}. Vote by {deadline}."
        return f"{p.title}. Vote by {deadline}."

    # ---- voting ---------------------------------------------------------------------------

    async def do_cast_vote(self, proposal_id: str, user_id: str, choice: Choice) -> VoteResult:
        """Cast or change the member's vote. The same choice again changes nothing.

        Raises:
            ProposalNotFound (also for non-members), NotEligible (not in the snapshot),
            VotingClosed (closed, cancelled or past the deadline).
        """
        proposal = await self.check_visible(proposal_id, user_id)
        room = club_room(proposal.club_id)
        await events.ensure_room(room)

        async def do(session: AsyncClientSession) -> VoteResult:
            p = await repository.get(proposal_id, session)
            if p is None:
                raise ProposalNotFound("no such proposal")
            if p.status is not ProposalStatus.OPEN or utcnow() >= _aware(p.deadline):
                raise VotingClosed(
                    "voting on this proposal has closed", details={"status": p.status.value}
                )
            try:
                await club_service.check_member(p.club_id, user_id, session=session)
            except ClubNotFound as exc:
                raise ProposalNotFound("no such proposal") from exc
            if user_id not in p.weights:
                raise NotEligible("you joined after this proposal was made, so have no vote on it")
            now = utcnow()
            vote = await repository.current_vote(proposal_id, user_id, session)
            if vote is not None and vote.choice is choice:
                return VoteResult(vote, False, p)
            previous = None if vote is None else vote.choice
            if vote is None:
                vote = Vote(
                    proposal_id=proposal_id, club_id=p.club_id, user_id=user_id, choice=choice,
                    weight=p.weights[user_id], cast_at=now, updated_at=now,
                )  # fmt: skip
                await repository.insert_vote(vote, session)
            else:
                vote.choice, vote.updated_at = choice, now
                vote.changes += 1
                await repository.change_vote(vote, session)
            await repository.record(
                VoteRecord(proposal_id=proposal_id, user_id=user_id, choice=choice,
                           previous=previous, weight=vote.weight, at=now),
                session,
            )  # fmt: skip
            current = repository.choices(await repository.votes(proposal_id, session))
            p.tally = stored_tally(p, current)
            if not await repository.update_open(p, {"tally": p.tally.model_dump()}, session):
                raise VotingClosed("voting on this proposal has closed")
            p.version += 1
            await events.room_event(
                session, room, VOTE_TALLY, VoteTallyEvent, club_id=p.club_id,
                proposal_id=proposal_id, tally=TallyOut.of(p),
            )  # fmt: skip
            return VoteResult(vote, True, p)

        for attempt in range(3):
            try:
                result = await run_in_transaction(do)
                break
            except DuplicateKeyError:
                # Another request of the same member inserted the vote first; run again and
                # find it (same choice: no change; another: a change).
                if attempt == 2:
                    raise
        return result

    # ---- discussion -----------------------------------------------------------------------

    async def do_comment(self, proposal_id: str, author_id: str, body: str) -> ProposalComment:
        """Add a comment to the proposal's discussion (any active member, open or decided;
        not once cancelled). ``body`` is already trimmed and at most 2,000 characters
        (schemas). Every open screen hears ``proposal:comment`` through the room's log.

        Raises:
            ProposalNotFound (also for non-members), ProposalNotOpen (cancelled),
            DiscussionFull (409: the thread holds ``THREAD_MAX_COMMENTS``), RateLimited.
        """
        proposal = await self.check_visible(proposal_id, author_id)
        await rate_limiter().hit(
            "proposal_comment", get_settings().rate_limit_chat, proposal.club_id, author_id
        )
        room = club_room(proposal.club_id)
        await events.ensure_room(room)

        async def do(session: AsyncClientSession) -> ProposalComment:
            p = await repository.get(proposal_id, session)
            if p is None:
                raise ProposalNotFound("no such proposal")
            await club_service.check_member(p.club_id, author_id, session=session)
            if p.status is ProposalStatus.CANCELLED:
                raise ProposalNotOpen("this proposal was withdrawn; its discussion is closed",
                                      details={"status": p.status.value})  # fmt: skip
            if await repository.count_comments(proposal_id, session) >= THREAD_MAX_COMMENTS:
                raise DiscussionFull(
                    f"This discussion already has {THREAD_MAX_COMMENTS} comments; carry on in "
                    "the club's chat.", details={"max": THREAD_MAX_COMMENTS},
                )  # fmt: skip
            comment = ProposalComment(
                id=PydanticObjectId(), proposal_id=proposal_id, club_id=p.club_id,
                author_id=author_id, body=body, created_at=utcnow(),
            )  # fmt: skip
            event = await events.room_event(
                session, room, PROPOSAL_COMMENT, ProposalCommentEvent, club_id=p.club_id,
                proposal_id=proposal_id,
                comment=CommentBody(**CommentOut.of(comment).model_dump(exclude={"seq"})),
            )  # fmt: skip
            comment.seq = int(event.data["seq"])
            await repository.insert_comment(comment, session)
            return comment

        return await run_in_transaction(do)

    async def comments(
        self, proposal_id: str, user_id: str, after_seq: int, limit: int
    ) -> list[ProposalComment]:
        """The proposal's discussion after room seq ``after_seq``, oldest first. Raises
        ``ProposalNotFound`` (also for non-members)."""
        await self.check_visible(proposal_id, user_id)
        return await repository.comments(proposal_id, after_seq, limit)

    # ---- closing --------------------------------------------------------------------------

    async def do_close(
        self, proposal_id: str, actor_id: str | None, reason: CloseReason, note: str = ""
    ) -> Proposal:
        """Close a proposal and record its outcome with the final tally.

        ``DEADLINE`` (the platform, ``actor_id`` None): only once the deadline passed; closing
        an already closed proposal returns it unchanged (the timer may run twice).
        ``EARLY``: a club owner/admin; ``CANCELLED``: an owner/admin or the proposer, no
        outcome. An approved investment proposal creates an order awaiting execution.

        Raises:
            ProposalNotFound, NotAllowed, ProposalNotOpen (early close or cancel of a closed one).
        """
        proposal = (await self.check_visible(proposal_id, actor_id) if actor_id is not None
                    else await repository.get(proposal_id))  # fmt: skip
        if proposal is None:
            raise ProposalNotFound("no such proposal")
        if actor_id is not None:
            _, membership = await club_service.check_member(proposal.club_id, actor_id)
            manager = membership.role in MANAGERS
            if reason is CloseReason.EARLY and not manager:
                raise NotAllowed("closing early needs a club owner or admin",
                                 details={"required": ["owner", "admin"]})  # fmt: skip
            if reason is CloseReason.CANCELLED and not (manager or proposal.created_by == actor_id):
                raise NotAllowed("cancelling needs a club owner or admin, or the proposer",
                                 details={"required": ["owner", "admin", "proposer"]})  # fmt: skip
        room = club_room(proposal.club_id)
        await events.ensure_room(room)
        await notification_service.prepare(list(proposal.weights))
        told = (await club_service.prepare_rules_notice(proposal.club_id)
                if proposal.kind is ProposalKind.RULES else [])  # fmt: skip
        club = await club_service.get(proposal.club_id)

        async def do(session: AsyncClientSession) -> Proposal:
            p = await repository.get(proposal_id, session)
            if p is None:
                raise ProposalNotFound("no such proposal")
            if p.status is not ProposalStatus.OPEN:
                if reason is CloseReason.DEADLINE:
                    return p
                raise ProposalNotOpen("this proposal is no longer open",
                                      details={"status": p.status.value})  # fmt: skip
            now = utcnow()
            if reason is CloseReason.DEADLINE and now < _aware(p.deadline):
                return p
            current = repository.choices(await repository.votes(proposal_id, session))
            p.tally = stored_tally(p, current)
            if reason is CloseReason.CANCELLED:
                p.status = ProposalStatus.CANCELLED
            else:
                p.status = ProposalStatus(Outcome(p.tally.outcome).value)
            p.close_reason, p.closed_at, p.closed_by = reason, now, actor_id
            if p.status is ProposalStatus.APPROVED and p.kind is ProposalKind.INVESTMENT:
                assert p.side is not None and p.symbol is not None
                order = await order_service.do_open_for_proposal(
                    session, p.club_id, proposal_id, side=p.side, symbol=p.symbol,
                    quantity=p.quantity, amount=p.amount, limit_price=p.limit_price,
                )  # fmt: skip
                p.order_id = str(order.id)
            if p.status is ProposalStatus.APPROVED and p.kind is ProposalKind.RULES and p.rules:
                # the members decided: the club's rules change now (audited, live)
                await club_service.do_apply_voted_rules(session, p.club_id, proposal_id, p.rules,
                                                        told)  # fmt: skip
            fields = {
                "tally": p.tally.model_dump(), "status": p.status.value,
                "close_reason": reason.value, "closed_at": now, "closed_by": actor_id,
                "order_id": p.order_id,
            }  # fmt: skip
            if not await repository.update_open(p, fields, session):
                raise ProposalNotOpen("this proposal is no longer open")
            p.version += 1
            if reason is CloseReason.CANCELLED:
                await events.room_event(
                    session, room, PROPOSAL_CANCELLED, ProposalCancelledEvent,
                    club_id=p.club_id, proposal=ProposalOut.of(p), reason=note,
                )  # fmt: skip
            else:
                await events.room_event(
                    session, room, PROPOSAL_CLOSED, ProposalClosedEvent, club_id=p.club_id,
                    proposal=ProposalOut.of(p),
                )  # fmt: skip
            await audit_service.do_append(
                chain=club_chain(p.club_id), actor_id=actor_id,
                action="proposal.cancelled" if reason is CloseReason.CANCELLED
                else "proposal.closed",
                target_type="proposal", target_id=proposal_id,
                details={"reason": reason.value, "status": p.status.value, "note": note,
                         "tally": p.tally.model_dump(), "order_id": p.order_id},
                session=session,
            )  # fmt: skip
            drafts = [] if reason is CloseReason.CANCELLED else self._result_drafts(p, club)
            await notification_service.do_store(session, drafts)
            return p

        return await run_in_transaction(do)

    def _result_drafts(self, p: Proposal, club: Club | None) -> list[Draft]:
        name = club.name if club else "your club"
        t = p.tally
        body = (f"{p.title}: {_outcome_title(p)}. Yes {t.yes_count}, no {t.no_count}, "
                f"abstain {t.abstain_count} of {t.eligible_count} members.")  # fmt: skip
        if p.order_id:
            body += " An order now waits for the treasurer."
        return [
            Draft(user_id=user, kind=NotificationKind.PROPOSAL_CLOSED,
                  title=f"Proposal {_outcome_title(p)} in {name}", body=body, club_id=p.club_id,
                  ref_type="proposal", ref_id=str(p.id), dedupe_key=f"closed:{p.id}:{user}")
            for user in p.weights
        ]  # fmt: skip

    async def do_close_due(self, limit: int = 100) -> int:
        """Close every open proposal whose deadline passed (the worker's timer). Returns how
        many this call closed."""
        closed = 0
        for proposal in await repository.due(utcnow(), limit):
            result = await self.do_close(str(proposal.id), None, CloseReason.DEADLINE)
            closed += result.status is not ProposalStatus.OPEN and result.closed_by is None
        return closed

    async def do_send_reminders(self, limit: int = 100) -> int:
        """Tell members who have not voted that a proposal closes soon (once per proposal, per
        member: the reminder is claimed on the proposal and each notification is de-duplicated).
        Returns how many notifications were stored."""
        sent = 0
        for proposal in await repository.reminders_due(utcnow(), limit):
            sent += await self._remind(proposal)
        return sent

    async def _remind(self, proposal: Proposal) -> int:
        members = {m.user_id for m in await club_service.active_members(proposal.club_id)}
        await notification_service.prepare([u for u in proposal.weights if u in members])
        club = await club_service.get(proposal.club_id)
        name = club.name if club else "your club"
        pid = str(proposal.id)

        async def do(session: AsyncClientSession) -> list[Notification]:
            p = await repository.get(pid, session)
            if p is None or p.status is not ProposalStatus.OPEN or p.reminded_at is not None:
                return []
            await repository.mark_reminded(p, session)
            voted = set(repository.choices(await repository.votes(pid, session)))
            deadline = _aware(p.deadline).strftime("%d %b %Y %H:%M UTC")
            drafts = [
                Draft(user_id=user, kind=NotificationKind.PROPOSAL_CLOSING_SOON,
                      title=f"Voting closes soon in {name}: {p.title}",
                      body=f"You have not voted on “{p.title}”. Voting closes {deadline}.",
                      club_id=p.club_id, ref_type="proposal", ref_id=pid,
                      dedupe_key=f"remind:{pid}:{user}")
                for user in p.weights if user in members and user not in voted
            ]  # fmt: skip
            return await notification_service.do_store(session, drafts)

        stored = await run_in_transaction(do)
        return len(stored)

    async def room_state(
        self, club_id: str, session: AsyncClientSession, limit: int = 50
    ) -> list[Proposal]:
        """Open proposals and the latest closed ones, oldest first (for the room snapshot)."""
        items = await repository.of_club(club_id, None, limit, session)
        return sorted(items, key=lambda p: p.seq)


proposal_service = ProposalService()
