"""Chit fund reports as PDF jobs, on the same path as the club reports: a request is checked,
stored ``queued`` (``ReportJob`` with ``pool_type="chit"``, ``club_id`` = the scheme id) and
published on the report-jobs topic; the reports agent builds it here (figures from the chits
service → ``chit_pdf`` → stored through app/files), with ``report:progress`` to the requester.

Kinds: ``chit_auction_minutes`` (a closed month's auction, for the registrar) and
``chit_monthly_report`` (a month of a scheme). The scheme's foreman or an admin asks."""

from __future__ import annotations

import datetime as dt
import re

from app.chits.documents import AuctionStatus, PaymentKind
from app.chits.errors import AuctionNotOpen, SchemeNotFound
from app.chits.service import Actor, chit_service
from app.errors import AppError, ServiceUnavailable
from app.extensions import services
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.identity.directory import users_by_id
from app.logging import get_logger
from app.reports import repository
from app.reports.chit_pdf import (
    MinutesFigures,
    MonthlyFigures,
    TicketLine,
    render_chit_pdf,
)
from app.reports.documents import JobStatus, ReportFormat, ReportJob, ReportKind
from app.reports.errors import ReportNotFound
from app.reports.figures import Header, Person
from app.reports.service import report_service
from streams.records import ReportJobV1
from streams.topics import REPORT_JOBS

log = get_logger(__name__)

CHIT_KINDS = (ReportKind.CHIT_AUCTION_MINUTES, ReportKind.CHIT_MONTHLY_REPORT)
TITLES = {
    ReportKind.CHIT_AUCTION_MINUTES: "Auction minutes",
    ReportKind.CHIT_MONTHLY_REPORT: "Monthly report",
}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "chit"


class ChitReportService:
    """Request, build and look up chit report jobs."""

    async def do_request(
        self, scheme_id: str, actor: Actor, kind: ReportKind, month: int
    ) -> ReportJob:
        """Queue a PDF of ``kind`` for ``month`` of the scheme (its foreman or an admin).

        Raises:
            SchemeNotFound (404: also not yours), ChitForbidden (403), AuctionNotOpen (409:
            the minutes of an auction not closed yet), ReportNotFound (404: no such month),
            ServiceUnavailable (503: Kafka).
        """
        if kind not in CHIT_KINDS:
            raise ReportNotFound("no such chit report")
        scheme = await chit_service.check_foreman_or_admin(scheme_id, actor)
        if not 1 <= month <= max(1, scheme.current_month):
            raise ReportNotFound("no such month", details={"month": month})
        if kind == ReportKind.CHIT_AUCTION_MINUTES:
            auction = await self._auction(scheme_id, actor, month)
            if auction.status != AuctionStatus.CLOSED:
                raise AuctionNotOpen("the minutes are written once the auction has closed")
        job = ReportJob(club_id=scheme_id, requested_by=actor.user_id, kind=kind,
                        format=ReportFormat.PDF, pool_type="chit", month=month)  # fmt: skip
        await repository.insert_job(job)
        record = ReportJobV1(
            id=str(job.id), job_id=str(job.id), club_id=scheme_id, requested_by=actor.user_id,
            kind=kind.value, format=ReportFormat.PDF.value, as_of=None, member_id=None,
            requested_at=job.created_at.isoformat(),
        )  # fmt: skip
        try:
            await services.require_producer().send(REPORT_JOBS, str(job.id), record)
        except Exception as exc:
            await report_service._finish(
                job, JobStatus.FAILED, ("service_unavailable", "the report could not be queued")
            )
            raise ServiceUnavailable("reports are unavailable right now; try again",
                                     details={"service": "Kafka"}) from exc  # fmt: skip
        return job

    async def job(self, scheme_id: str, requester: str, job_id: str) -> ReportJob:
        """The caller's chit report job of this scheme. Raises ``ReportNotFound``."""
        job = await repository.get_job(job_id)
        if (job is None or job.club_id != scheme_id or job.requested_by != requester
                or job.kind not in CHIT_KINDS):  # fmt: skip
            raise ReportNotFound("no such report")
        return job

    async def _auction(self, scheme_id: str, actor: Actor, month: int):  # type: ignore[no-untyped-def]
        for auction in await chit_service.auctions(scheme_id, actor):
            if auction.month == month:
                return auction
        raise ReportNotFound("no auction for that month", details={"month": month})

    # ---- building (the reports agent) ----------------------------------------------------

    async def do_build(self, record: ReportJobV1) -> ReportJob | None:
        """Build one chit job, at least once (a finished or failed job is left alone);
        failures are stored on the job and emitted, never raised."""
        job = await repository.get_job(record.job_id)
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        await repository.mark_running(job, dt.datetime.now(dt.UTC))
        job.status = JobStatus.RUNNING
        await report_service._progress(job, 5)
        try:
            requester = (await users_by_id([job.requested_by])).get(job.requested_by)
            if requester is None:
                raise ReportNotFound("the requester is gone")
            actor = Actor(job.requested_by, tuple(requester.roles))
            figures = await self._figures(job, actor, requester.full_name,
                                          requester.member_id or "")  # fmt: skip
            await report_service._progress(job, 40)
            data = render_chit_pdf(figures)
            await report_service._progress(job, 75)
            name = (f"{_slug(figures.header.club_name)}-{job.kind.value.replace('_', '-')}-"
                    f"month-{job.month}")  # fmt: skip
            stored = await files_service.do_store_generated(
                job.requested_by, data=data, filename=f"{name}.pdf",
                content_type="application/pdf", purpose=FilePurpose.REPORT,
                attached_kind="report", attached_id=str(job.id),
            )  # fmt: skip
            job.file_id = str(stored.id)
            await report_service._finish(job, JobStatus.DONE)
            await report_service._progress(job, 100, download=report_service.download(job, stored))
        except AppError as exc:
            await report_service._fail(job, exc.code, exc.message)
        except Exception as exc:
            log.exception("chit report build failed", job_id=str(job.id), error=str(exc))
            await report_service._fail(job, "internal_error", "the report could not be built")
        return job

    async def _figures(
        self, job: ReportJob, actor: Actor, name: str, member_id: str
    ) -> MinutesFigures | MonthlyFigures:
        scheme_id, month = job.club_id, job.month or 1
        scheme = await chit_service.get_scheme(scheme_id)
        subs = [s for s in await chit_service.subscribers(scheme_id, actor) if s.holds_ticket]
        users = await users_by_id(sorted({s.user_id for s in subs} | {scheme.foreman_id}))
        foreman = users.get(scheme.foreman_id)
        header = Header(
            club_id=scheme_id, club_name=scheme.name, currency=scheme.currency,
            title=TITLES[job.kind], as_of=dt.datetime.now(dt.UTC).date().isoformat(),
            generated_at=dt.datetime.now(dt.UTC), requested_by=Person(job.requested_by, name,
                                                                      member_id),
        )  # fmt: skip
        terms = {
            "chit_amount": scheme.chit_amount, "subscribers": scheme.subscribers,
            "instalment": scheme.instalment, "commission_bps": scheme.commission_bps,
            "commission": scheme.terms.commission, "commission_source": scheme.commission_source,
            "min_bid": scheme.min_bid, "bid_step": scheme.bid_step,
            "max_discount": scheme.max_discount,
            "foreman": foreman.full_name if foreman else scheme.foreman_id,
        }  # fmt: skip
        auction = await self._auction(scheme_id, actor, month)

        def who(user_id: str) -> tuple[str, str]:
            user = users.get(user_id)
            return (user.full_name, user.member_id or "—") if user else (user_id, "—")

        tickets = []
        for s in sorted(subs, key=lambda x: x.ticket):
            full_name, member = who(s.user_id)
            line = TicketLine(ticket=s.ticket, name=full_name, member_id=s.member_id or member,
                              status=s.status.value, prized_month=s.prized_month)  # fmt: skip
            if auction.shares:
                line.share = auction.shares[s.ticket - 1]
            if auction.net_instalments:
                line.net_instalment = auction.net_instalments[s.ticket - 1]
            book = await chit_service.passbook(str(s.id), actor)
            row = next((r for r in book["rows"] if r["month"] == month), None)
            if row is not None:
                line.due, line.paid, line.dividend = row["due"], row["paid"], row["dividend"]
                line.penalty, line.balance = row["penalty"], row["balance"]
            tickets.append(line)
        if job.kind == ReportKind.CHIT_AUCTION_MINUTES:
            _, bids = await chit_service.auction(str(auction.id), actor)
            by_ticket = {t.ticket: t.name for t in tickets}
            present = {scheme.foreman_id, *auction.attendance, *(b.user_id for b in bids)}
            return MinutesFigures(
                header=header, scheme=terms, month=month, opens_at=auction.opens_at,
                ends_at=auction.ends_at, closed_at=auction.closed_at,
                method=auction.method or "", winner_ticket=auction.winner_ticket or 0,
                winner_name=by_ticket.get(auction.winner_ticket or 0, "—"),
                discount=auction.discount or 0, prize=auction.prize or 0,
                commission=auction.commission or 0,
                bids=[(b.seq, b.at, b.ticket, by_ticket.get(b.ticket, "—"), b.discount)
                      for b in bids],
                eligible=auction.eligible_tickets,
                attendance=sorted(who(u)[0] for u in present),
                draw=auction.draw.model_dump() if auction.draw else None, tickets=tickets,
            )  # fmt: skip
        closed = auction.status == AuctionStatus.CLOSED
        payout = None
        payments = await chit_service.payments_of(actor, scheme_id=scheme_id)
        prize = [p for p in payments if p.kind == PaymentKind.PRIZE and p.month == month]
        if prize:
            p = prize[-1]
            payout = {"amount": p.amount, "status": p.status.value, "reference": p.reference,
                      "withheld": int(p.details.get("withheld", 0))}  # fmt: skip
        books = await chit_service.balances(scheme_id)
        commission = sum(a.commission or 0 for a in await chit_service.auctions(scheme_id, actor)
                         if a.status == AuctionStatus.CLOSED and a.month <= month)  # fmt: skip
        return MonthlyFigures(
            header=header, scheme=terms, month=month, tickets=tickets,
            auction={"winner_ticket": auction.winner_ticket, "method": auction.method or "",
                     "discount": auction.discount or 0, "prize": auction.prize or 0,
                     "commission": auction.commission or 0} if closed else None,
            payout=payout, commission_to_date=commission,
            trial_balance=sorted((k, v) for k, v in books.items() if v),
        )  # fmt: skip


chit_report_service = ChitReportService()
"""The one instance of ``ChitReportService``."""

__all__ = ["CHIT_KINDS", "SchemeNotFound", "chit_report_service"]
