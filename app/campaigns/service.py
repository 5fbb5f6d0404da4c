"""Campaign rules (DOMAIN.md, "Community crowdfunding with profit sharing"): the lifecycle
draft → in review → live → funded | failed (or cancelled), the feed, and investing.

Investing reserves the amount with one guarded update of the campaign (repository.reserve):
raised + reserved never exceeds the goal. A pledge larger than what remains follows the
campaign's pledge policy — part-fill with the remainder, or refuse naming the remainder — and
``quote`` shows the outcome before anyone pays. The payment webhook (through the payments agent)
completes the investment; the expiry timer releases unpaid reservations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import audit_service
from app.books.service import books_service
from app.campaigns import events as campaign_events
from app.campaigns import repository
from app.campaigns.documents import (
    PUBLIC_STATUSES,
    Campaign,
    CampaignStatus,
    CampaignUpdate,
    Dispute,
    DisputeStatus,
    Hold,
    Investment,
    InvestmentStatus,
    PledgePolicy,
    ProfitReport,
    ProfitReportStatus,
    ReviewNote,
    Transfer,
    utcnow,
)
from app.campaigns.errors import (
    CampaignFileNotFound,
    CampaignNotFound,
    CampaignState,
    InvalidCampaign,
    InvestmentLimitReached,
    InvestmentNotFound,
    InvestmentRefused,
    NotAnInvestor,
    NotCampaignOwner,
    OwnerKycRequired,
)
from app.campaigns.schedule import ReportDue, next_report_due
from app.campaigns.schemas import CampaignFields, FeedQuery
from app.config import get_settings
from app.db import run_in_transaction
from app.files.documents import FilePurpose, StoredFile
from app.files.service import files_service
from app.identity import directory
from app.identity.documents import KycStatus, PlatformRole
from app.identity.errors import Forbidden
from app.kyc.errors import KycRequired
from app.kyc.service import kyc_service
from app.logging import get_logger
from app.money import format_minor, parse_minor
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.payments.service import create_checkout
from app.realtime import eventlog, events

log = get_logger(__name__)

MIN_GOAL = 100_000  # ₹1,000.00
MAX_GOAL = 50_000_000_00  # ₹5 crore
MIN_PLEDGE = 10_000  # ₹100.00
MAX_DAYS_LIVE = 180
RESERVE_ATTEMPTS = 8
PICTURE_TYPES = ("image/png", "image/jpeg")

CampaignFileRole = Literal["picture", "document", "profit_statement"]

ESCROW = "assets:escrow"
UNMATCHED = "liabilities:unmatched_payments"


def rupees(paise: int) -> str:
    """An amount for people to read, with Indian digit grouping: 50000000 → ``₹5,00,000.00``
    (notifications; the API's amounts stay plain decimal strings)."""
    text = format_minor(abs(paise))
    whole, _, cents = text.partition(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        whole = ",".join([head, *groups, tail]) if head else ",".join([*groups, tail])
    return f"{'-' if paise < 0 else ''}₹{whole}.{cents}"


def investor_funds(user_id: str) -> str:
    """The ledger account of what the campaign holds for one investor (paise)."""
    return f"liabilities:investor_funds:{user_id}"


def profit_payable(user_id: str) -> str:
    """The ledger account of a profit share owed to one investor (paise)."""
    return f"liabilities:profit_payable:{user_id}"


def campaign_chain(campaign_id: str) -> str:
    """The audit chain of one campaign."""
    return f"campaign:{campaign_id}"


@dataclass(frozen=True, slots=True)
class Quote:
    """What a pledge of ``requested`` paise becomes now: ``accept`` it, ``part_fill`` it at
    ``amount`` (the remainder), or ``refuse`` it (``reason``). ``remaining`` = goal − raised −
    reserved."""

    requested: int
    amount: int
    remaining: int
    outcome: Literal["accept", "part_fill", "refuse"]
    reason: str | None
    message: str
    opens_on: str | None = None


def _open(campaign: Campaign, now: dt.datetime) -> bool:
    return (
        campaign.status == CampaignStatus.LIVE
        and campaign.starts_on <= now.date().isoformat()
        and campaign.ends_at > now
    )


def _shown(campaign: Campaign, viewer_id: str, is_admin: bool) -> Campaign:
    """``campaign`` if ``viewer_id`` may see it (``check_visible``'s rule). Raises
    ``CampaignNotFound``."""
    if campaign.status in PUBLIC_STATUSES or is_admin or campaign.owner_id == viewer_id:
        return campaign
    raise CampaignNotFound("no such campaign", details={"campaign_id": str(campaign.id)})


class CampaignService:
    """Lifecycle, feed and investing. One instance: ``campaign_service``."""

    # ---- reading -------------------------------------------------------------------------

    async def get(self, campaign_id: str, session: AsyncClientSession | None = None) -> Campaign:
        """The campaign. Raises ``CampaignNotFound``."""
        campaign = await repository.get_campaign(campaign_id, session)
        if campaign is None:
            raise CampaignNotFound("no such campaign", details={"campaign_id": campaign_id})
        return campaign

    async def check_visible(self, campaign_id: str, viewer_id: str, is_admin: bool) -> Campaign:
        """The campaign if ``viewer_id`` may see it: live, funded and failed ones are public;
        drafts, campaigns in review and cancelled ones only to their owner and admins.
        Raises ``CampaignNotFound``."""
        return _shown(await self.get(campaign_id), viewer_id, is_admin)

    async def check_owner(self, campaign_id: str, user_id: str) -> Campaign:
        """The campaign if ``user_id`` owns it. Raises ``CampaignNotFound`` (not visible) or
        ``NotCampaignOwner``."""
        campaign = await self.check_visible(campaign_id, user_id, False)
        if campaign.owner_id != user_id:
            raise NotCampaignOwner("only the campaign's owner may do this")
        return campaign

    async def feed(self, viewer_id: str, query: FeedQuery) -> tuple[list[Campaign], int]:
        """One page of the feed and the number of matches. Without ``status`` it lists live,
        funded and failed campaigns; ``mine`` lists the viewer's own in any status."""
        now = utcnow()
        if query.mine:
            statuses = [query.status.value] if query.status else [s.value for s in CampaignStatus]
        elif query.status is not None:
            if query.status not in PUBLIC_STATUSES:
                return [], 0
            statuses = [query.status.value]
        else:
            statuses = [s.value for s in PUBLIC_STATUSES]
        sorts: dict[str, list[tuple[str, int]]] = {
            "newest": [("live_at", -1), ("created_at", -1)],
            "closing_soon": [("ends_at", 1)],
            "most_funded": [("funded_bps", -1)],
            "least_funded": [("funded_bps", 1)],
            "goal": [("goal", -1)],
        }
        closing = None
        if query.closing_within_days is not None:
            closing = now + dt.timedelta(days=query.closing_within_days)
            statuses = [s for s in statuses if s == CampaignStatus.LIVE.value]
        found, total = await repository.feed(
            statuses=statuses, owner_id=viewer_id if query.mine else None,
            category=query.category, city=query.city,
            closing_before=closing,
            min_funded_bps=None if query.min_funded_pct is None else query.min_funded_pct * 100,
            max_funded_bps=None if query.max_funded_pct is None else query.max_funded_pct * 100,
            text=(query.q or "").strip() or None, sort=sorts[query.sort],
            offset=query.offset, limit=query.limit,
        )  # fmt: skip
        return found, total

    # ---- lifecycle -----------------------------------------------------------------------

    def check_fields(self, data: CampaignFields, now: dt.datetime) -> None:
        """Cross-field rules. Raises ``InvalidCampaign`` with ``details.field``:
        goal ₹1,000–₹5 crore; minimum pledge at least ₹100 and at most the maximum; maximum
        per investor at most the goal; the start day today or later (UTC); the deadline after
        the start day, in the future, and at most 180 days after the start."""

        def bad(field: str, message: str) -> InvalidCampaign:
            return InvalidCampaign(message, details={"field": field})

        if not MIN_GOAL <= data.goal <= MAX_GOAL:
            raise bad("goal", "the goal must be between ₹1,000.00 and ₹5,00,00,000.00")
        if data.min_investment < MIN_PLEDGE:
            raise bad("min_investment", "the minimum investment is at least ₹100.00")
        if data.max_investment < data.min_investment:
            raise bad("max_investment", "the maximum investment is below the minimum")
        if data.max_investment > data.goal:
            raise bad("max_investment", "the maximum investment is above the goal")
        if data.starts_on < now.date():
            raise bad("starts_on", "the start date has passed: open it today or later")
        if data.ends_at <= now:
            raise bad("ends_at", "the deadline has passed")
        start = dt.datetime.combine(data.starts_on, dt.time(), dt.UTC)
        if data.ends_at <= start:
            raise bad("ends_at", "the deadline must come after the start date")
        if data.ends_at - start > dt.timedelta(days=MAX_DAYS_LIVE):
            raise bad("ends_at", f"a campaign runs at most {MAX_DAYS_LIVE} days")

    async def _check_owner_kyc(self, user_id: str) -> None:
        summary = await kyc_service.summary(user_id)
        if summary.status != KycStatus.VERIFIED:
            raise OwnerKycRequired(
                "complete your KYC before raising money",
                details={"kyc_status": summary.status.value, "missing": summary.missing},
            )

    async def _check_files(self, owner_id: str, data: CampaignFields) -> None:
        """Every document and picture is the owner's own ``campaign`` upload (never a KYC
        scan or a generated report, which would become readable by others), and every
        picture is an image by its content. Raises ``InvalidCampaign`` naming the field."""
        listed = [("document_file_ids", f) for f in data.document_file_ids] + [
            ("picture_file_ids", f) for f in data.picture_file_ids
        ]
        for field, file_id in listed:
            record = await files_service.get(file_id)
            if record is None or record.owner_id != owner_id:
                raise InvalidCampaign(
                    "a document or picture is not one of your uploads",
                    details={"field": field, "file_id": file_id},
                )
            if record.purpose != FilePurpose.CAMPAIGN:
                raise InvalidCampaign(
                    "upload campaign files as purpose 'campaign' (this one is "
                    f"{record.purpose.value})",
                    details={"field": field, "file_id": file_id},
                )
            if field == "picture_file_ids" and record.content_type not in PICTURE_TYPES:
                raise InvalidCampaign(
                    "a picture must be a PNG or JPEG image",
                    details={"field": field, "file_id": file_id},
                )

    async def check_file_access(
        self, campaign_id: str, file_id: str, viewer_id: str, is_admin: bool
    ) -> tuple[StoredFile, CampaignFileRole]:
        """The file and its role on the campaign, if ``viewer_id`` may read it:

        * the campaign's owner and platform admins: every file of the campaign, always;
        * anyone signed in: its pictures and documents once it is published (live, funded or
          failed) — never a draft's, a campaign's in review or a cancelled one's;
        * a profit report's statement: the campaign's investors (a completed investment)
          too, and only for a report that was not rejected.

        Raises ``CampaignNotFound`` (the campaign is not visible), ``CampaignFileNotFound``
        (not one of its files, or not yet readable by others), ``NotAnInvestor`` (a
        profit statement asked for by someone who did not invest)."""
        campaign = await self.check_visible(campaign_id, viewer_id, is_admin)
        role: CampaignFileRole
        report: ProfitReport | None = None
        if file_id in campaign.picture_file_ids:
            role = "picture"
        elif file_id in campaign.document_file_ids:
            role = "document"
        else:
            report = await repository.report_with_document(campaign_id, file_id)
            if report is None:
                raise CampaignFileNotFound("no such file on this campaign")
            role = "profit_statement"
        record = await files_service.get(file_id)
        if record is None or record.owner_id != campaign.owner_id:
            raise CampaignFileNotFound("no such file on this campaign")
        if is_admin or viewer_id == campaign.owner_id:
            return record, role
        if campaign.status not in PUBLIC_STATUSES:  # (check_visible let only insiders here)
            raise CampaignFileNotFound("no such file on this campaign")
        if role == "profit_statement":
            if report is None or report.status == ProfitReportStatus.REJECTED:
                raise CampaignFileNotFound("no such file on this campaign")
            if not await repository.has_paid_in(campaign_id, viewer_id):
                raise NotAnInvestor("profit statements are for the campaign's investors")
        return record, role

    def _fields(self, data: CampaignFields) -> dict[str, Any]:
        return {
            "title": data.title, "story": data.story.strip(), "category": data.category,
            "city": data.city, "goal": data.goal, "min_investment": data.min_investment,
            "max_investment": data.max_investment, "profit_share_bps": data.profit_share_bps,
            "profit_period_months": data.profit_period_months,
            "starts_on": data.starts_on.isoformat(), "ends_at": data.ends_at,
            "funding_model": data.funding_model, "pledge_policy": data.pledge_policy,
            "document_file_ids": data.document_file_ids,
            "picture_file_ids": data.picture_file_ids,
        }  # fmt: skip

    async def do_create(self, owner_id: str, data: CampaignFields) -> Campaign:
        """A draft campaign of a KYC-verified owner.

        Raises ``OwnerKycRequired``, ``InvalidCampaign``."""
        await self._check_owner_kyc(owner_id)
        self.check_fields(data, utcnow())
        await self._check_files(owner_id, data)
        campaign = Campaign(owner_id=owner_id, **self._fields(data))
        await repository.insert_campaign(campaign)
        await audit_service.do_append(
            chain=campaign_chain(str(campaign.id)), actor_id=owner_id, action="campaign.created",
            target_type="campaign", target_id=str(campaign.id),
            details={"goal": campaign.goal, "title": campaign.title},
        )  # fmt: skip
        return campaign

    async def do_edit(self, owner_id: str, campaign_id: str, data: CampaignFields) -> Campaign:
        """Replace a draft's fields (a campaign sent back is a draft again).

        Raises ``CampaignNotFound``, ``NotCampaignOwner``, ``CampaignState``,
        ``InvalidCampaign``."""
        await self.check_owner(campaign_id, owner_id)
        self.check_fields(data, utcnow())
        await self._check_files(owner_id, data)
        changes = {**self._fields(data), "updated_at": utcnow()}
        updated = await repository.update_campaign(
            campaign_id, changes, statuses=(CampaignStatus.DRAFT,)
        )
        if updated is None:
            raise CampaignState("only a draft can be edited")
        return updated

    async def do_submit(self, owner_id: str, campaign_id: str) -> Campaign:
        """Send a draft for an admin's review (owner KYC checked again).

        Raises ``OwnerKycRequired``, ``CampaignState``, ``InvalidCampaign`` (the deadline
        passed while it was a draft)."""
        campaign = await self.check_owner(campaign_id, owner_id)
        await self._check_owner_kyc(owner_id)
        if campaign.ends_at <= utcnow():
            raise InvalidCampaign("the deadline has passed", details={"field": "ends_at"})
        now = utcnow()
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> Campaign:
            updated = await repository.update_campaign(
                campaign_id, {"status": CampaignStatus.IN_REVIEW.value, "submitted_at": now,
                              "updated_at": now},
                statuses=(CampaignStatus.DRAFT,), session=session,
            )  # fmt: skip
            if updated is None:
                raise CampaignState(
                    "only a draft can be submitted", details={"status": campaign.status}
                )
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=owner_id,
                action="campaign.submitted", target_type="campaign", target_id=campaign_id,
                session=session,
            )  # fmt: skip
            await campaign_events.record_admin(session, campaign_id, "submitted")
            return updated

        return await run_in_transaction(body)

    async def do_review(
        self, admin_id: str, campaign_id: str, decision: str, notes: str
    ) -> Campaign:
        """An admin verifies a campaign in review (it goes live) or sends it back to draft,
        with notes; audited in the same transaction; the owner is notified.

        Raises ``CampaignNotFound``, ``CampaignState``, ``InvalidCampaign`` (verifying a
        campaign whose deadline passed)."""
        campaign = await self.get(campaign_id)
        now = utcnow()
        verify = decision == "verify"
        if verify and campaign.ends_at <= now:
            raise InvalidCampaign("the deadline has passed; send it back to be edited",
                                  details={"field": "ends_at"})  # fmt: skip
        note = ReviewNote(admin_id=admin_id, decision="verified" if verify else "sent_back",
                          notes=notes.strip(), at=now)  # fmt: skip
        changes: dict[str, Any] = {"updated_at": now}
        if verify:
            changes.update(status=CampaignStatus.LIVE.value, live_at=now)
        else:
            changes.update(status=CampaignStatus.DRAFT.value)
        await campaign_events.ensure_room(campaign_id)
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> Campaign:
            updated = await repository.update_campaign(
                campaign_id, changes, statuses=(CampaignStatus.IN_REVIEW,),
                push={"reviews": note.model_dump()}, session=session,
            )  # fmt: skip
            if updated is None:
                raise CampaignState("the campaign is not in review",
                                    details={"status": campaign.status})  # fmt: skip
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=admin_id,
                action=f"campaign.{note.decision}", target_type="campaign",
                target_id=campaign_id, details={"notes": note.notes}, session=session,
            )  # fmt: skip
            if verify:
                await campaign_events.record_progress(session, updated)
            await campaign_events.record_admin(session, campaign_id, "reviewed")
            return updated

        updated = await run_in_transaction(body)
        await self.notify([updated.owner_id], updated,
                          f"Your campaign was {'verified' if verify else 'sent back'}",
                          note.notes, f"review:{campaign_id}:{len(updated.reviews)}")  # fmt: skip
        return updated

    async def do_cancel(
        self, actor_id: str, is_admin: bool, campaign_id: str, reason: str
    ) -> Campaign:
        """The owner (or an admin) cancels a draft, a campaign in review, or a live one that
        has nothing raised or reserved (otherwise it runs to its deadline). Audited.

        Raises ``CampaignNotFound``, ``NotCampaignOwner``, ``CampaignState``."""
        campaign = await self.check_visible(campaign_id, actor_id, is_admin)
        if campaign.owner_id != actor_id and not is_admin:
            raise NotCampaignOwner("only the campaign's owner may cancel it")
        now = utcnow()
        await campaign_events.ensure_room(campaign_id)
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> Campaign:
            await repository.bump_money_seq(campaign_id, session)
            current = await self.get(campaign_id, session)
            if current.status == CampaignStatus.LIVE and (current.raised or current.reserved):
                raise CampaignState(
                    "money is raised or reserved: the campaign runs to its deadline",
                    details={"status": current.status},
                )
            updated = await repository.update_campaign(
                campaign_id, {"status": CampaignStatus.CANCELLED.value, "closed_at": now,
                              "cancel_reason": reason, "updated_at": now},
                statuses=(CampaignStatus.DRAFT, CampaignStatus.IN_REVIEW, CampaignStatus.LIVE),
                session=session,
            )  # fmt: skip
            if updated is None:
                raise CampaignState("the campaign has closed already",
                                    details={"status": current.status})  # fmt: skip
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=actor_id, action="campaign.cancelled",
                target_type="campaign", target_id=campaign_id, details={"reason": reason},
                session=session,
            )  # fmt: skip
            await campaign_events.record_progress(session, updated)
            await campaign_events.record_admin(session, campaign_id, "cancelled")
            return updated

        return await run_in_transaction(body)

    # ---- investing -----------------------------------------------------------------------

    def quote(
        self, campaign: Campaign, requested: int, committed: int, now: dt.datetime,
        investor_id: str | None = None,
    ) -> Quote:  # fmt: skip
        """What a pledge of ``requested`` paise becomes, given what the investor already has
        pending or invested here (``committed``). Rules, in order: a live campaign whose start
        day has not come (``not_open_yet``); the campaign must be live and open
        (``campaign_closed``); not the owner's own (``own_campaign``); nothing left because
        the rest is reserved by people still paying (``all_reserved``: it may free up) or
        raised (``goal_reached``); at least the minimum pledge unless it takes exactly what remains
        (``below_minimum``); within the per-investor maximum (``above_maximum``); then the
        pledge policy for more than remains: ``part_fill`` at the remainder, or refuse
        (``exceeds_remaining``)."""
        remaining = campaign.goal - campaign.raised - campaign.reserved
        money = format_minor

        def refuse(reason: str, message: str) -> Quote:
            return Quote(requested, 0, remaining, "refuse", reason, message)

        if campaign.status == CampaignStatus.LIVE and campaign.starts_on > now.date().isoformat():
            return Quote(
                requested,
                0,
                remaining,
                "refuse",
                "not_open_yet",
                f"this campaign opens on {campaign.starts_on}",
                campaign.starts_on,
            )
        if not _open(campaign, now):
            return refuse("campaign_closed", "this campaign is not taking investments")
        if investor_id is not None and investor_id == campaign.owner_id:
            return refuse("own_campaign", "you cannot invest in your own campaign")
        if remaining <= 0 and campaign.raised < campaign.goal:
            return refuse("all_reserved", "the rest is reserved by others while they pay; "
                          "it frees up if they do not pay in time")  # fmt: skip
        if remaining <= 0:
            return refuse("goal_reached", "the goal has been reached; nothing remains to invest")
        if requested < campaign.min_investment and requested != remaining:
            minimum = money(campaign.min_investment)
            return refuse("below_minimum", f"the minimum investment is ₹{minimum}")
        allowed = campaign.max_investment - committed
        if requested > allowed:
            most = money(max(allowed, 0))
            return refuse("above_maximum", f"you can invest at most ₹{most} more here")
        if requested <= remaining:
            return Quote(requested, requested, remaining, "accept", None,
                         f"₹{money(requested)} will be reserved for you")  # fmt: skip
        if campaign.pledge_policy == PledgePolicy.PART_FILL:
            return Quote(requested, remaining, remaining, "part_fill", None,
                         f"only ₹{money(remaining)} remains: your pledge will be part-filled at "
                         f"₹{money(remaining)}")  # fmt: skip
        return refuse("exceeds_remaining",
                      f"only ₹{money(remaining)} remains; pledge at most that")  # fmt: skip

    async def quote_for(self, user_id: str, campaign_id: str, requested: int) -> Quote:
        """``quote`` for a person and a campaign they can see."""
        campaign = await self.check_visible(campaign_id, user_id, False)
        committed = await self._committed(campaign, user_id)
        return self.quote(campaign, requested, committed, utcnow(), user_id)

    async def _committed(self, campaign: Campaign, user_id: str) -> int:
        """Paise ``user_id`` has pending or invested in ``campaign``: the campaign's own
        running total (kept by the atomic reservation), or the investments when larger (a
        campaign stored before the running total existed)."""
        stored = await repository.committed_by_user(user_id, campaign_id=str(campaign.id))
        return max(campaign.investor_totals.get(user_id, 0), stored)

    async def _counted_this_year(
        self, user_id: str, session: AsyncClientSession, since: dt.datetime
    ) -> int:
        """Paise ``user_id`` put in since ``since`` that count toward the yearly KYC-free
        limit: campaign investments pending or completed (this transaction's snapshot) plus
        club contributions (``books_service.contributed_since``). The club figure is read
        outside the snapshot; that is safe because every club contribution of this person
        writes the same allowance document first, so one committed after our snapshot, or
        still open, makes this transaction conflict and start again."""
        campaigns = await repository.committed_by_user(user_id, since=since, session=session)
        return campaigns + await books_service.contributed_since(user_id, since)

    async def do_reserve(self, user_id: str, campaign_id: str, requested: int) -> Investment:
        """Reserve a pledge atomically and store the pending investment (no checkout yet).

        The amount is the quote's (part-filled under that policy); a reservation that loses
        a race is re-quoted from the fresh figures, so two pledges for the last rupees get
        exactly one acceptance and the loser a refusal naming what remains. The same guarded
        update keeps the investor's total here within ``max_investment``, so many pledges
        of one person at once never pass it either (the losers are refused
        ``above_maximum``). Everyone watching the campaign's room sees the new ``reserved``
        and ``remaining`` (``campaign:progress``).

        Without full KYC a person may put at most ``kyc_contribution_limit`` paise a financial
        year (April–March) into campaigns and clubs together (docs/domain.md, KYC limit): the
        check, the reservation and the investment are then one transaction that first takes
        the person's yearly allowance (``kyc_service.do_reserve_allowance``), so two pledges
        at once — here, in another campaign or in a club — cannot both pass it.

        Raises ``CampaignNotFound``, ``InvestmentRefused``, ``InvestmentLimitReached``."""
        await self.check_visible(campaign_id, user_id, False)
        summary = await kyc_service.summary(user_id)
        if summary.status == KycStatus.VERIFIED:
            return await self._reserve_unlimited(user_id, campaign_id, requested)
        return await self._reserve_within_limit(user_id, campaign_id, requested)

    def _refused(self, quote: Quote, requested: int) -> InvestmentRefused:
        details = {"reason": quote.reason, "requested": format_minor(requested),
                   "remaining": format_minor(max(quote.remaining, 0))}  # fmt: skip
        if quote.opens_on:
            details["opens_on"] = quote.opens_on
        return InvestmentRefused(quote.message, details=details)

    def _new_investment(
        self, campaign: Campaign, user_id: str, requested: int, quote: Quote, now: dt.datetime
    ) -> tuple[Hold, Investment]:
        investment_id = PydanticObjectId()
        expires = now + dt.timedelta(seconds=get_settings().campaign_reservation_seconds)
        hold = Hold(id=str(investment_id), user_id=user_id, amount=quote.amount,
                    expires_at=expires)  # fmt: skip
        investment = Investment(
            id=investment_id, campaign_id=str(campaign.id), user_id=user_id,
            requested=requested, amount=quote.amount, currency=campaign.currency,
            part_filled=quote.outcome == "part_fill", expires_at=expires, created_at=now,
        )  # fmt: skip
        return hold, investment

    async def _reserve_unlimited(
        self, user_id: str, campaign_id: str, requested: int
    ) -> Investment:
        """A KYC-verified investor: the guarded update alone, retried on a lost race."""
        campaign = await self.get(campaign_id)
        now = utcnow()
        for _ in range(RESERVE_ATTEMPTS):
            committed = await self._committed(campaign, user_id)
            quote = self.quote(campaign, requested, committed, now, user_id)
            if quote.outcome == "refuse":
                raise self._refused(quote, requested)
            hold, investment = self._new_investment(campaign, user_id, requested, quote, now)
            if await repository.reserve(campaign_id, hold.model_dump(), quote.amount, now):
                break
            campaign = await self.get(campaign_id)
        else:
            remaining = campaign.goal - campaign.raised - campaign.reserved
            raise InvestmentRefused(
                "too many people are investing right now; try again",
                details={"reason": "busy", "remaining": format_minor(max(remaining, 0))},
            )
        stored = await repository.insert_investment(investment)
        await self._tell_room(campaign_id)
        return stored

    async def _reserve_within_limit(
        self, user_id: str, campaign_id: str, requested: int
    ) -> Investment:
        """An investor without full KYC: allowance, count, check, reservation and investment
        in one transaction (a conflicting one is retried by the driver from a new snapshot)."""
        await kyc_service.ensure_allowance(user_id)
        await campaign_events.ensure_room(campaign_id)

        async def body(session: AsyncClientSession) -> Investment:
            now = utcnow()
            campaign = await self.get(campaign_id, session)
            stored = await repository.committed_by_user(
                user_id, campaign_id=campaign_id, session=session
            )
            committed = max(campaign.investor_totals.get(user_id, 0), stored)
            quote = self.quote(campaign, requested, committed, now, user_id)
            if quote.outcome == "refuse":
                raise self._refused(quote, requested)
            try:
                await kyc_service.do_reserve_allowance(
                    session, user_id, quote.amount,
                    lambda tx, since: self._counted_this_year(user_id, tx, since),
                    domain="campaigns",
                )  # fmt: skip
            except KycRequired as exc:
                limit = get_settings().kyc_contribution_limit
                so_far = parse_minor(str(exc.details.get("contributed", "0.00")))
                raise InvestmentLimitReached(
                    f"complete your KYC to put more than ₹{format_minor(limit)} a year into "
                    "campaigns and clubs",
                    details={"limit": format_minor(limit), "invested": format_minor(so_far),
                             "kyc_status": exc.details.get("kyc_status")},
                ) from exc  # fmt: skip
            hold, investment = self._new_investment(campaign, user_id, requested, quote, now)
            if not await repository.reserve(
                campaign_id, hold.model_dump(), quote.amount, now, session
            ):  # the snapshot said yes; a guard that still refuses is a lost race
                raise InvestmentRefused(
                    "too many people are investing right now; try again",
                    details={"reason": "busy", "remaining": format_minor(max(quote.remaining, 0))},
                )  # fmt: skip
            await repository.insert_investment(investment, session)
            fresh = await self.get(campaign_id, session)
            await campaign_events.record_progress(session, fresh)
            return investment

        return await run_in_transaction(body)

    async def _tell_room(self, campaign_id: str) -> None:
        """Send the campaign's room its figures now (a reservation changed ``reserved``)."""
        await campaign_events.ensure_room(campaign_id)

        async def body(session: AsyncClientSession) -> None:
            await campaign_events.record_progress(session, await self.get(campaign_id, session))

        try:
            await run_in_transaction(body)
        except Exception as exc:  # pragma: no cover - the reservation itself committed
            log.warning("campaign progress not sent", campaign=campaign_id, error=str(exc)[:200])

    async def do_invest(self, user_id: str, campaign_id: str, requested: int) -> Investment:
        """Reserve (``do_reserve``) and open the checkout at the payment provider
        (``pool_type="campaign"``); the payment webhook completes the investment. If the
        provider fails, the reservation is released at once and the error raised.

        Raises what ``do_reserve`` raises, and ``PaymentProviderUnavailable`` /
        ``PaymentProviderRejected``."""
        investment = await self.do_reserve(user_id, campaign_id, requested)
        try:
            checkout = await create_checkout(
                str(investment.id), campaign_id, investment.amount, investment.currency,
                pool_type="campaign",
            )  # fmt: skip
        except Exception:
            await self.do_release(investment, InvestmentStatus.FAILED)
            raise
        await repository.set_investment(
            str(investment.id), {"provider": checkout.provider, "order_id": checkout.order_id,
                                 "checkout_url": checkout.checkout_url})  # fmt: skip
        investment.provider, investment.order_id = checkout.provider, checkout.order_id
        investment.checkout_url = checkout.checkout_url
        return investment

    async def do_release(self, investment: Investment, status: InvestmentStatus) -> bool:
        """Release a pending investment's hold (``expired`` or ``failed``): reserved goes
        down by its amount exactly once. True when this call released it."""
        campaign_id = str(investment.campaign_id)
        await campaign_events.ensure_room(campaign_id)

        async def body(session: AsyncClientSession) -> bool:
            released = await repository.release_hold(
                campaign_id, str(investment.id), investment.user_id, investment.amount, session
            )
            await repository.set_investment(
                str(investment.id), {"status": status.value},
                statuses=(InvestmentStatus.PENDING,), session=session,
            )  # fmt: skip
            if released:
                campaign = await self.get(campaign_id, session)
                await campaign_events.record_progress(session, campaign)
            return released

        return await run_in_transaction(body)

    async def do_expire_holds(self, now: dt.datetime | None = None, limit: int = 50) -> int:
        """Release every reservation whose time ran out (the expiry timer). A hold left by a
        request that died before storing its investment is released the same way. Returns
        how many holds were released."""
        now = now or utcnow()
        released = 0
        for campaign_id in await repository.campaigns_with_expired_holds(now, limit):
            for raw in await repository.holds_of(campaign_id):
                hold = Hold.model_validate(raw)
                if hold.expires_at > now:
                    continue
                investment = await repository.get_investment(hold.id)
                if investment is None:  # the request died between reserving and storing
                    investment = Investment(
                        id=PydanticObjectId(hold.id), campaign_id=campaign_id,
                        user_id=hold.user_id, requested=hold.amount, amount=hold.amount,
                        expires_at=hold.expires_at,
                    )  # fmt: skip
                released += await self.do_release(investment, InvestmentStatus.EXPIRED)
        return released

    # ---- updates -------------------------------------------------------------------------

    async def do_post_update(
        self, owner_id: str, campaign_id: str, title: str, body: str
    ) -> CampaignUpdate:
        """The owner posts an update on a live or funded campaign: stored, sent to the
        campaign's room (``campaign:update``) and to every investor as a notification.

        Raises ``CampaignNotFound``, ``NotCampaignOwner``, ``CampaignState``."""
        campaign = await self.check_owner(campaign_id, owner_id)
        if campaign.status not in (CampaignStatus.LIVE, CampaignStatus.FUNDED):
            raise CampaignState("updates are posted on live or funded campaigns",
                                details={"status": campaign.status})  # fmt: skip
        update = CampaignUpdate(campaign_id=campaign_id, author_id=owner_id,
                                title=" ".join(title.split()), body=body.strip())  # fmt: skip
        await campaign_events.ensure_room(campaign_id)

        async def write(session: AsyncClientSession) -> CampaignUpdate:
            await repository.insert_update(update, session)
            await campaign_events.record_update(session, update)
            return update

        stored = await run_in_transaction(write)
        investors = await repository.investments_of_campaign(
            campaign_id, (InvestmentStatus.COMPLETED, InvestmentStatus.PENDING)
        )
        await self.notify([i.user_id for i in investors], campaign,
                          f"{campaign.title}: {stored.title}", stored.body,
                          f"update:{stored.id}")  # fmt: skip
        return stored

    # ---- reads for the API and dashboards -------------------------------------------------

    async def updates(self, campaign_id: str) -> list[CampaignUpdate]:
        """A campaign's updates, newest first."""
        return await repository.updates_of(campaign_id)

    async def updates_of_campaigns(
        self, campaign_ids: list[str], limit: int = 50
    ) -> list[CampaignUpdate]:
        """The updates of several campaigns (a dashboard's), newest first, at most ``limit``."""
        return await repository.updates_of_campaigns(sorted(set(campaign_ids)), limit)

    def report_due(
        self, campaign: Campaign, reports: list[ProfitReport], today: dt.date | None = None
    ) -> ReportDue | None:
        """The next profit report ``campaign`` owes by its reporting schedule
        (app/campaigns/schedule.py; docs/domain.md, crowdfunding, "Reporting schedule"),
        given its ``reports``: periods of ``profit_period_months`` months from the day it was
        funded; rejected reports cover nothing. None unless the campaign is funded."""
        if campaign.status != CampaignStatus.FUNDED:
            return None
        funded = campaign.closed_at or campaign.live_at or campaign.created_at
        periods = [
            (dt.date.fromisoformat(r.period_start), dt.date.fromisoformat(r.period_end))
            for r in reports
            if r.status != ProfitReportStatus.REJECTED
        ]
        return next_report_due(
            funded.date(), campaign.profit_period_months, periods, today or utcnow().date()
        )

    async def investments(
        self, campaign: Campaign, viewer_id: str, is_admin: bool
    ) -> list[Investment]:
        """A campaign's investments: all of them for its owner and admins, else the viewer's."""
        found = await repository.investments_of_campaign(str(campaign.id))
        if is_admin or campaign.owner_id == viewer_id:
            return found
        return [i for i in found if i.user_id == viewer_id]

    async def investments_of(self, user_id: str) -> list[Investment]:
        """A person's investments, newest first."""
        return await repository.investments_of_user(user_id)

    async def get_investment(self, user_id: str, investment_id: str) -> Investment:
        """One of the caller's investments. Raises ``InvestmentNotFound``."""
        investment = await repository.get_investment(investment_id)
        if investment is None or investment.user_id != user_id:
            raise InvestmentNotFound("no such investment of yours")
        return investment

    async def is_investor(self, campaign_id: str, user_id: str) -> bool:
        """Whether ``user_id`` holds a completed investment in the campaign (who may read
        its profit statements besides the owner and admins)."""
        return await repository.has_paid_in(campaign_id, user_id)

    async def campaigns_by_ids(self, ids: list[str]) -> dict[str, Campaign]:
        """Campaigns by id."""
        return await repository.campaigns_by_ids(ids)

    async def owned(self, owner_id: str) -> list[Campaign]:
        """The owner's campaigns, newest first."""
        return await repository.campaigns_of_owner(owner_id)

    async def live(self, limit: int = 20) -> list[Campaign]:
        """Live campaigns, closing soonest first, at most ``limit``."""
        return await repository.live_campaigns(limit)

    async def funded(self, limit: int = 1000) -> list[Campaign]:
        """Funded campaigns (they owe profit reports), longest funded first."""
        return await repository.funded_campaigns(limit)

    async def in_review(self) -> list[Campaign]:
        """Campaigns waiting for an admin, oldest submission first."""
        return await repository.campaigns_by_status(CampaignStatus.IN_REVIEW)

    async def transfers(self, **filters: Any) -> list[Transfer]:
        """Payout tasks (``campaign_id``, ``user_id``, ``status``, ``kind`` filters)."""
        return await repository.transfers(**filters)

    async def reports(self, campaign_id: str) -> list[ProfitReport]:
        """A campaign's profit reports, newest first."""
        return await repository.reports_of(campaign_id)

    async def reports_waiting(self) -> list[ProfitReport]:
        """Profit reports waiting for an admin."""
        return await repository.reports_by_status(ProfitReportStatus.SUBMITTED.value)

    async def disputes(
        self, *, status: DisputeStatus | None = None, user_id: str | None = None
    ) -> list[Dispute]:
        """Disputes, oldest first."""
        return await repository.disputes(status=status, user_id=user_id)

    # ---- the live room --------------------------------------------------------------------

    async def catch_up(
        self, campaign_id: str, user_id: str, after_seq: int, with_events: bool = True,
        *, between: Callable[[], Awaitable[None]] | None = None,
    ) -> tuple[Campaign, int, list[dict[str, Any]], bool]:  # fmt: skip
        """For a socket joining (or re-syncing) ``campaign:<id>``: the campaign, the room's
        ``seq`` it is at, the events after ``after_seq`` (``{"event", "data"}``, at most
        ``room_catch_up_limit``; none when not ``with_events``) and whether more were left
        out. Read the log *after* the socket entered the room, so nothing falls in between.

        The head and the campaign are read in one snapshot transaction, head first (as the
        club room's state is, app/rooms/service.py ``state``): the campaign returned is exactly
        the one at ``seq`` — an event committed between the two reads is in neither, so the
        client gets it live or from the next catch-up and applies it once; it is neither lost
        (a campaign read before a head that includes it) nor applied on top of a campaign that
        already contains it. ``between`` (tests) runs between the two reads.
        Raises ``CampaignNotFound``."""
        room = campaign_events.campaign_room(campaign_id)

        async def read(session: AsyncClientSession) -> tuple[int, Campaign]:
            head = await eventlog.head(room, session)
            if between is not None:
                await between()
            return head, await self.get(campaign_id, session)

        head, campaign = await run_in_transaction(read)
        _shown(campaign, user_id, False)
        limit = get_settings().room_catch_up_limit
        wanted = with_events and after_seq < head
        found = await eventlog.since(room, after_seq, limit + 1) if wanted else []
        missed = [{"event": e.event, "data": e.data} for e in found[:limit]]
        return campaign, head, missed, len(found) > limit

    async def check_admin_room(self, user_id: str) -> None:
        """``user_id`` may enter the admins' room (``campaigns:admin``): a platform admin now
        (the role is read afresh, not taken from the socket's connection). Checked BEFORE the
        socket enters the room, so no admin event ever reaches anyone else. Raises
        ``Forbidden`` (``details.required``)."""
        user = await directory.user(user_id)
        if user is None or PlatformRole.ADMIN not in user.roles:
            raise Forbidden("the crowdfunding admin room is for platform admins",
                            details={"required": PlatformRole.ADMIN.value})  # fmt: skip

    async def admin_room_head(self, user_id: str) -> tuple[str, int]:
        """For a socket joining the admins' room: its name and last ``seq``, once more only
        for a platform admin (``check_admin_room``). Raises ``Forbidden``."""
        await self.check_admin_room(user_id)
        await campaign_events.ensure_admin_room()
        return campaign_events.ADMIN_ROOM, await eventlog.head(campaign_events.ADMIN_ROOM)

    # ---- notifications -------------------------------------------------------------------

    async def notify(
        self, user_ids: list[str], campaign: Campaign, title: str, body: str, dedupe: str
    ) -> None:
        """Tell people about a campaign (persisted, live, mailed if wanted); once per
        ``dedupe`` key and person. Never raises: the change it reports has committed."""
        drafts = [
            Draft(user_id=user_id, kind=NotificationKind.CAMPAIGN, title=title[:120],
                  body=body[:1000], ref_type="campaign", ref_id=str(campaign.id),
                  dedupe_key=f"campaign:{dedupe}:{user_id}")
            for user_id in sorted(set(user_ids))
        ]  # fmt: skip
        if not drafts:
            return
        try:
            await notification_service.do_notify(drafts)
        except Exception as exc:  # pragma: no cover - logged; the change itself committed
            log.error("campaign notification failed", error=str(exc)[:200])

    async def after_commit_notify(
        self, user_ids: list[str], campaign: Campaign, title: str, body: str, dedupe: str
    ) -> None:
        """``notify`` once the current change commits."""

        async def send() -> None:
            await self.notify(user_ids, campaign, title, body, dedupe)

        await events.after_commit(send)


campaign_service = CampaignService()


async def _campaign_money(user_id: str, session: AsyncClientSession, since: dt.datetime) -> int:
    """Paise ``user_id`` has pending or invested in campaigns since ``since`` (the snapshot of
    ``session``): what a club contribution's yearly-limit check adds for campaigns."""
    return await repository.committed_by_user(user_id, since=since, session=session)


kyc_service.count_also("campaigns", _campaign_money)
