"""Advisors (issue #17, "Advisors and community"): a verified advisor (platform role
``advisor`` and KYC verified) offers consultation slots; a member books one — never two people
the same slot (a unique index over booked ones) — cancels or reschedules it (the new booking and
the old one's cancellation in one transaction); the worker reminds both a day before; and the
advisor sees a client's risk profile and portfolios only while a consultation is booked."""

from __future__ import annotations

import datetime as dt
import itertools

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.advisory import repository
from app.advisory.documents import (
    AdvisorSlot,
    AdvisoryAccount,
    Booking,
    BookingStatus,
    ModelStrategy,
    RiskAssessment,
)
from app.advisory.engine import BPS
from app.advisory.errors import (
    BookingNotFound,
    InvalidPolicy,
    NotAnAdvisor,
    NotEngaged,
    SlotBooked,
    SlotNotFound,
    SlotOverlap,
    SlotUnavailable,
    StrategyNotFound,
)
from app.advisory.schemas import BookingChangedEvent, BookingOut
from app.advisory.service import advisory_service
from app.db import run_in_transaction
from app.identity import directory
from app.identity.documents import PlatformRole
from app.market.service import market_service
from app.notifications.documents import Notification, NotificationKind
from app.notifications.service import Draft, notification_service
from app.realtime import events
from app.realtime.eventlog import iso, utcnow
from app.realtime.rooms import person_room

REMIND_BEFORE = dt.timedelta(hours=24)
BOOKING_CHANGED = "advisory:booking"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class AdvisorService:
    """Consultations. Takes the acting user's id explicitly."""

    async def check_advisor(self, user_id: str) -> None:
        """Raises ``NotAnAdvisor`` unless the person has the advisor role and verified KYC."""
        user = await directory.user(user_id)
        if (user is None or PlatformRole.ADVISOR not in user.roles
                or str(user.kyc_status) != "verified"):  # fmt: skip
            raise NotAnAdvisor("only a verified advisor can do this")

    async def do_offer_slots(self, advisor_id: str, starts: list[dt.datetime],
                             minutes: int = 30) -> list[AdvisorSlot]:  # fmt: skip
        """Offer consultation slots (future ones; a repeat of an existing slot is ignored).
        No two of an advisor's slots overlap: the check and the inserts run in one
        transaction that bumps the advisor's desk, so two offers at once never both pass.
        Raises NotAnAdvisor, SlotUnavailable (a start in the past), SlotOverlap (409)."""
        await self.check_advisor(advisor_id)
        now = utcnow()
        if any(_utc(s) <= now for s in starts):
            raise SlotUnavailable("slots must start in the future")
        length = dt.timedelta(minutes=minutes)
        wanted = sorted({_utc(s) for s in starts})
        clash = [b.isoformat() for a, b in itertools.pairwise(wanted) if b < a + length]
        if clash:
            raise SlotOverlap("these slots overlap each other", details={"starts": clash})

        async def body(session: AsyncClientSession) -> list[AdvisorSlot]:
            await repository.bump_desk(advisor_id, session)
            existing = await repository.slots_between(advisor_id, wanted[0], wanted[-1] + length,
                                                      session)  # fmt: skip
            made, overlapping = [], []
            for start in wanted:
                same = [e for e in existing if _utc(e.start) == start]
                if same and same[0].minutes == minutes:
                    continue  # a repeat of an offered slot
                if any(_utc(e.start) < start + length
                       and start < _utc(e.start) + dt.timedelta(minutes=e.minutes)
                       for e in existing):  # fmt: skip
                    overlapping.append(start.isoformat())
                    continue
                slot = AdvisorSlot(advisor_id=advisor_id, start=start, minutes=minutes)
                await repository.insert_slot(slot, session)
                made.append(slot)
            if overlapping:
                raise SlotOverlap("these slots overlap ones already offered",
                                  details={"starts": overlapping})  # fmt: skip
            return made

        return await run_in_transaction(body)

    async def my_slots(self, advisor_id: str) -> list[tuple[AdvisorSlot, Booking | None]]:
        """The advisor's future slots, each with its booked consultation if any, by start.
        Raises NotAnAdvisor."""
        await self.check_advisor(advisor_id)
        now = utcnow()
        booked = {_utc(b.start): b for b in await repository.booked_after(advisor_id, now)}
        return [(s, booked.get(_utc(s.start))) for s in await repository.future_slots(
            advisor_id, now)]  # fmt: skip

    async def do_remove_slot(self, advisor_id: str, slot_id: str) -> AdvisorSlot:
        """Withdraw an offered slot (its advisor). A booked one stays: the consultation is
        cancelled first. Raises NotAnAdvisor, SlotNotFound, SlotBooked."""
        await self.check_advisor(advisor_id)
        slot = await repository.get_slot(slot_id)
        if slot is None or slot.advisor_id != advisor_id:
            raise SlotNotFound("no such slot")
        if await repository.booked_at(advisor_id, _utc(slot.start)) is not None:
            raise SlotBooked("this slot is booked: cancel the consultation first")
        if not await repository.delete_slot(slot):
            raise SlotNotFound("no such slot")
        # A client may have booked between the check and the removal: the booking wins.
        if await repository.booked_at(advisor_id, _utc(slot.start)) is not None:
            await repository.restore_slot(slot)
            raise SlotBooked("this slot was just booked: cancel the consultation first")
        return slot

    async def booking_out(self, booking: Booking) -> BookingOut:
        """A booking as the API shows it, with both people's names."""
        names = await self.names([booking.advisor_id, booking.client_id])
        return BookingOut(id=str(booking.id), advisor_id=booking.advisor_id,
                          client_id=booking.client_id, start=iso(_utc(booking.start)),
                          minutes=booking.minutes, status=booking.status.value,
                          advisor_name=names.get(booking.advisor_id),
                          client_name=names.get(booking.client_id))  # fmt: skip

    async def _tell(self, booking: Booking) -> None:
        """``advisory:booking`` in the advisor's and the client's own logs (``person:<id>``,
        each with its ``seq``), appended in one transaction just after the booking changed, so
        a desk or list that was away replays it on its next ``feed:join``."""
        out = await self.booking_out(booking)
        people = sorted({booking.advisor_id, booking.client_id})
        for person in people:
            await events.ensure_room(person_room(person))

        async def body(session: AsyncClientSession) -> None:
            for person in people:
                await events.room_event(session, person_room(person), BOOKING_CHANGED,
                                        BookingChangedEvent, booking=out)  # fmt: skip

        await run_in_transaction(body)

    async def names(self, user_ids: list[str]) -> dict[str, str]:
        """Display names (full name, else the e-mail's local part) of ``user_ids``, by id."""
        found = await directory.users_by_id(sorted(set(user_ids)))
        return {i: u.full_name or u.email.split("@")[0] for i, u in found.items()}

    async def free_slots(self, advisor_id: str) -> list[AdvisorSlot]:
        """The advisor's future slots nobody has booked. Raises NotAnAdvisor."""
        await self.check_advisor(advisor_id)
        return await repository.free_slots(advisor_id, utcnow())

    async def _book(self, session: AsyncClientSession | None, advisor_id: str, client_id: str,
                    start: dt.datetime) -> Booking:  # fmt: skip
        slot = await repository.find_slot(advisor_id, _utc(start))
        if slot is None or _utc(slot.start) <= utcnow():
            raise SlotUnavailable("this slot is not offered")
        booking = Booking(advisor_id=advisor_id, client_id=client_id, start=_utc(slot.start),
                          minutes=slot.minutes)  # fmt: skip
        try:
            await booking.insert(session=session)
        except DuplicateKeyError as exc:
            raise SlotUnavailable("someone booked this slot first") from exc
        return booking

    async def do_book(self, client_id: str, advisor_id: str, start: dt.datetime) -> Booking:
        """Book one of the advisor's free slots. Raises NotAnAdvisor (the advisor is not a
        verified one), SlotUnavailable (not offered, past, or taken)."""
        await self.check_advisor(advisor_id)
        if client_id == advisor_id:
            raise SlotUnavailable("an advisor cannot book their own slot")
        booking = await self._book(None, advisor_id, client_id, start)
        await self._tell(booking)
        return booking

    async def _own(self, booking_id: str, user_id: str) -> Booking:
        booking = await repository.get_booking(booking_id)
        if booking is None or user_id not in (booking.client_id, booking.advisor_id):
            raise BookingNotFound("no such booking")
        if booking.status is not BookingStatus.BOOKED:
            raise SlotUnavailable("this booking is no longer active")
        return booking

    async def do_cancel(self, booking_id: str, user_id: str) -> Booking:
        """Cancel a booking (the client or the advisor); the slot is free again. Raises
        BookingNotFound, SlotUnavailable (already cancelled)."""
        booking = await self._own(booking_id, user_id)
        assert booking.id is not None
        if not await repository.cancel_booking(booking.id, None):
            raise SlotUnavailable("this booking is no longer active")
        booking.status = BookingStatus.CANCELLED
        await self._tell(booking)
        return booking

    async def do_reschedule(self, booking_id: str, user_id: str,
                            start: dt.datetime) -> Booking:  # fmt: skip
        """Move a booking (its client) to another free slot of the same advisor: the new
        booking and the old one's cancellation commit together, or neither. Raises
        BookingNotFound, SlotUnavailable."""
        old = await self._own(booking_id, user_id)
        if old.client_id != user_id:
            raise BookingNotFound("no such booking")

        async def body(session: AsyncClientSession) -> Booking:
            assert old.id is not None
            if not await repository.cancel_booking(old.id, None, session):
                raise SlotUnavailable("this booking is no longer active")
            new = await self._book(session, old.advisor_id, old.client_id, start)
            await Booking.get_pymongo_collection().update_one(
                {"_id": old.id}, {"$set": {"replaced_by": str(new.id)}}, session=session
            )
            return new

        new = await run_in_transaction(body)
        await self._tell(new)
        return new

    async def bookings(self, user_id: str) -> list[Booking]:
        """The person's consultations (as client or advisor), by start."""
        return await repository.bookings_of(user_id)

    async def client_view(
        self, advisor_id: str, client_id: str
    ) -> tuple[RiskAssessment | None, list[AdvisoryAccount]]:
        """A client's current risk profile and personal accounts, for an advisor with a booked
        consultation with them. Raises NotAnAdvisor, NotEngaged."""
        await self.check_advisor(advisor_id)
        if not await repository.engaged(advisor_id, client_id):
            raise NotEngaged("no such client")
        return (await repository.latest_assessment(client_id),
                await repository.accounts_of_owner(client_id))  # fmt: skip

    async def do_send_reminders(self) -> int:
        """Remind client and advisor of consultations starting within a day, once each
        (persisted, live, mailed). Returns how many bookings were reminded."""
        told = 0
        for booking in await repository.due_reminders(utcnow() + REMIND_BEFORE):
            assert booking.id is not None
            if not await repository.claim_reminder(booking.id):
                continue
            people = [booking.client_id, booking.advisor_id]
            await notification_service.prepare(people)
            when = _utc(booking.start).strftime("%d %b %Y %H:%M UTC")
            drafts = [
                Draft(
                    user_id=p,
                    kind=NotificationKind.CONSULTATION_REMINDER,
                    title="Consultation tomorrow",
                    body=f"Your advice consultation starts at {when} ({booking.minutes} minutes).",
                    ref_type="booking",
                    ref_id=str(booking.id),
                    dedupe_key=f"consultation:{booking.id}:{p}",
                )
                for p in people
            ]

            async def body(session: AsyncClientSession,
                           drafts: list[Draft] = drafts) -> list[Notification]:  # fmt: skip
                return await notification_service.do_store(session, drafts)

            await notification_service.deliver(await run_in_transaction(body))
            told += 1
        return told

    # ------------------------------------------------------------ model strategies

    async def _check_targets(self, targets: dict[str, int]) -> dict[str, int]:
        if sum(targets.values()) != BPS or any(b <= 0 for b in targets.values()):
            raise InvalidPolicy("targets must be positive basis points summing to 10,000")
        await market_service.check_symbols(sorted(targets))
        return dict(sorted(targets.items()))

    async def do_publish_strategy(self, advisor_id: str, name: str, description: str,
                                  targets: dict[str, int],
                                  publish: bool = True) -> ModelStrategy:  # fmt: skip
        """Create a model strategy (a verified advisor): published at once, or a draft only
        its advisor sees (``publish`` false). Raises NotAnAdvisor, InvalidPolicy,
        UnknownSymbols."""
        await self.check_advisor(advisor_id)
        strategy = ModelStrategy(advisor_id=advisor_id, name=name, description=description,
                                 targets=await self._check_targets(targets), published=publish,
                                 published_at=utcnow() if publish else None)  # fmt: skip
        await strategy.insert()
        return strategy

    async def strategy(self, strategy_id: str, viewer: str | None = None) -> ModelStrategy:
        """A published strategy (public), or a draft for its own advisor (``viewer``).
        Raises StrategyNotFound."""
        found = await repository.get_strategy(strategy_id)
        if found is None or (not found.published and found.advisor_id != viewer):
            raise StrategyNotFound("no such strategy")
        return found

    async def my_strategies(self, advisor_id: str) -> list[ModelStrategy]:
        """The advisor's strategies, drafts included, newest first. Raises NotAnAdvisor."""
        await self.check_advisor(advisor_id)
        return await repository.strategies_of(advisor_id)

    async def do_publish_draft(self, strategy_id: str, advisor_id: str) -> ModelStrategy:
        """Publish a draft (its advisor): it is listed, has a public page and can be followed.
        Publishing a published one changes nothing. Raises StrategyNotFound, NotAnAdvisor."""
        strategy = await self.strategy(strategy_id, advisor_id)
        if strategy.advisor_id != advisor_id:
            raise StrategyNotFound("no such strategy")
        await self.check_advisor(advisor_id)
        assert strategy.id is not None
        published = await repository.publish_strategy(strategy.id)
        assert published is not None
        return published

    async def strategies(self) -> list[ModelStrategy]:
        """Every published strategy, newest first (public)."""
        return await repository.strategies()

    async def do_follow(self, strategy_id: str, account_id: str, user_id: str) -> AdvisoryAccount:
        """Make the strategy's targets the account's (its owner/admin), under the account's
        policy (exclusions dropped, maximum weight kept, re-scaled), and follow later changes.
        Raises StrategyNotFound, AccountNotFound, RoleRequired, InvalidPolicy."""
        strategy = await self.strategy(strategy_id)
        account = await advisory_service.check_account(account_id, user_id, manage=True,
                                                       create=True)  # fmt: skip
        assert strategy.id is not None
        targets = await advisory_service.policy_targets(account, strategy.targets)
        await repository.add_follower(strategy.id, account.account_id)
        updated = await repository.update_account(account.account_id, {
            "targets": targets, "base_targets": strategy.targets, "recommendation_id": None,
            "drift_alerted": None, "strategy_id": strategy_id,
            "updated_at": utcnow()})  # fmt: skip
        assert updated is not None
        return updated

    async def do_update_strategy(self, strategy_id: str, advisor_id: str,
                                 targets: dict[str, int], name: str | None = None,
                                 description: str | None = None) -> ModelStrategy:  # fmt: skip
        """Change a strategy (its advisor): its targets, and its name and description when
        given. New targets are a new version: every following account takes them and its
        owner is notified. Raises StrategyNotFound, NotAnAdvisor, InvalidPolicy."""
        strategy = await self.strategy(strategy_id, advisor_id)
        if strategy.advisor_id != advisor_id:
            raise StrategyNotFound("no such strategy")
        await self.check_advisor(advisor_id)
        clean = await self._check_targets(targets)
        assert strategy.id is not None
        fields: dict[str, object] = {"targets": clean}
        if name is not None:
            fields["name"] = name
        if description is not None:
            fields["description"] = description
        changed = clean != strategy.targets
        updated = await repository.edit_strategy(strategy.id, fields, changed)
        assert updated is not None
        if not changed:
            return updated
        owners: list[tuple[str, str]] = []
        for account_id in updated.followers:
            current = await repository.get_account(account_id)
            if current is None:
                continue
            try:  # each follower keeps its own policy (exclusions, maximum weight)
                targets = await advisory_service.policy_targets(current, clean)
            except InvalidPolicy:
                targets = current.targets  # the new mix cannot hold its policy: keep the old
            account = await repository.update_account(account_id, {
                "targets": targets, "base_targets": clean, "drift_alerted": None,
                "updated_at": utcnow()})  # fmt: skip
            if account is not None and account.owner_id:
                owners.append((account.owner_id, account_id))
        if owners:
            await notification_service.prepare([o for o, _ in owners])
            drafts = [Draft(user_id=o, kind=NotificationKind.STRATEGY_CHANGED,
                            title=f"{updated.name} changed its allocation",
                            body="The portfolio that follows it has new targets; preview a "
                                 "rebalance.", club_id=a, ref_type="strategy",
                            ref_id=strategy_id,
                            dedupe_key=f"strategy:{strategy_id}:{updated.version}:{a}")
                      for o, a in owners]  # fmt: skip

            async def body(session: AsyncClientSession) -> list[Notification]:
                return await notification_service.do_store(session, drafts)

            await notification_service.deliver(await run_in_transaction(body))
        return updated


advisor_service = AdvisorService()
