"""Report jobs: requested over HTTP (checked, stored ``queued``, published on the report-jobs
topic), built by the reports agent (figures → CSV/PDF → stored through app/files), with
progress persisted on the job and emitted as ``report:progress`` to the requester's room."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.books.service import books_service
from app.campaigns.service import campaign_service
from app.clubs.service import TREASURY, club_service
from app.config import get_settings
from app.crm.service import crm_service
from app.errors import AppError, ServiceUnavailable, ValidationFailed
from app.extensions import services
from app.files.documents import FilePurpose, StoredFile
from app.files.service import files_service
from app.logging import get_logger
from app.realtime import events
from app.realtime.rooms import user_room
from app.reports import campaign_figures, repository
from app.reports import figures as build
from app.reports.csv_render import render_csv
from app.reports.documents import (
    CAMPAIGN_KINDS,
    CRM_KINDS,
    CRM_SCOPE,
    JobStatus,
    ReportFormat,
    ReportJob,
    ReportKind,
)
from app.reports.errors import ReportNotFound
from app.reports.pdf_render import render_pdf
from app.reports.schemas import DownloadOut, ReportError, ReportJobOut, ReportProgressEvent
from streams.records import ReportJobV1
from streams.topics import REPORT_JOBS

log = get_logger(__name__)

REPORT_PROGRESS = "report:progress"

CONTENT_TYPES = {ReportFormat.CSV: "text/csv; charset=utf-8", ReportFormat.PDF: "application/pdf"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "club"


class ReportService:
    """Request, build and look up report jobs."""

    async def do_request(
        self,
        club_id: str,
        requester: str,
        *,
        kind: ReportKind,
        fmt: ReportFormat,
        on: dt.date | None,
        member_id: str | None,
    ) -> ReportJob:
        """Check the request (membership, rights over the member, a valuation to report on),
        store the job ``queued`` and publish it keyed by job id.

        Raises:
            ClubNotFound, RoleRequired (another member's statement without a treasury role),
            InvalidValuation (no valuation on or before the date), ServiceUnavailable (Kafka).
        """
        if kind in CRM_KINDS:
            raise ValidationFailed("CRM reports are requested at /api/v1/crm/report-jobs",
                                   details={"field": "kind"})  # fmt: skip
        await club_service.check_member(club_id, requester)
        if kind == ReportKind.MEMBER_STATEMENT:
            member_id = member_id or requester
            if member_id != requester:
                await club_service.check_member(club_id, requester, TREASURY)
        else:
            member_id = None
        if kind != ReportKind.TRANSACTION_LEDGER:
            await books_service.valuation_at(club_id, requester, on)
        job = ReportJob(club_id=club_id, requested_by=requester, kind=kind, format=fmt,
                        as_of=on.isoformat() if on else None, member_id=member_id)  # fmt: skip
        return await self._queue(job)

    async def do_request_crm(self, requester: str, kind: ReportKind,
                             fmt: ReportFormat) -> ReportJob:  # fmt: skip
        """A CRM report of the requester's scope (built by the reports agent like a club
        report; its figures are ``crm_service.report``'s, scoped when built).

        Raises:
            Forbidden (no CRM role), ValidationFailed (not a CRM kind), ServiceUnavailable.
        """
        if kind not in CRM_KINDS:
            raise ValidationFailed("not a CRM report", details={"field": "kind"})
        await crm_service.staff_actor(requester)
        job = ReportJob(club_id=CRM_SCOPE, requested_by=requester, kind=kind, format=fmt,
                        as_of=dt.datetime.now(dt.UTC).date().isoformat())  # fmt: skip
        return await self._queue(job)

    async def crm_job(self, requester: str, job_id: str) -> ReportJob:
        """The caller's CRM report job. Raises ``ReportNotFound`` (also another's)."""
        job = await repository.get_job(job_id)
        if job is None or job.club_id != CRM_SCOPE or job.requested_by != requester:
            raise ReportNotFound("no such report")
        return job

    async def _queue(self, job: ReportJob) -> ReportJob:
        """Store the job ``queued`` and publish it keyed by job id (ServiceUnavailable when
        Kafka does not take it: the job is marked failed)."""
        await repository.insert_job(job)
        requester, club_id, kind, fmt = job.requested_by, job.club_id, job.kind, job.format
        member_id = job.member_id
        record = ReportJobV1(
            id=str(job.id), job_id=str(job.id), club_id=club_id, requested_by=requester,
            kind=kind.value, format=fmt.value, as_of=job.as_of, member_id=member_id,
            requested_at=job.created_at.isoformat(),
        )  # fmt: skip
        try:
            await services.require_producer().send(REPORT_JOBS, str(job.id), record)
        except Exception as exc:
            await self._finish(
                job,
                JobStatus.FAILED,
                error=("service_unavailable", "the report could not be queued"),
            )
            raise ServiceUnavailable("reports are unavailable right now; try again",
                                     details={"service": "Kafka"}) from exc  # fmt: skip
        return job

    async def do_request_campaign(
        self, requester: str, *, kind: ReportKind, fmt: ReportFormat,
        campaign_id: str | None, is_admin: bool,
    ) -> ReportJob:  # fmt: skip
        """A crowdfunding statement: the requester's own investor statement, or the statement
        of a campaign they own (admins: any campaign). Stored ``queued`` and published like a
        club report; the file is the requester's alone.

        Raises ``ValidationFailed`` (no campaign named), ``CampaignNotFound``,
        ``NotCampaignOwner``, ``ServiceUnavailable`` (Kafka)."""
        if kind == ReportKind.CAMPAIGN_STATEMENT:
            if campaign_id is None:
                raise ValidationFailed(
                    "name the campaign: campaign_id",
                    details={
                        "errors": [{"loc": ["campaign_id"], "msg": "required for a campaign"}]
                    },
                )
            if is_admin:
                await campaign_service.get(campaign_id)
            else:
                await campaign_service.check_owner(campaign_id, requester)
        else:
            campaign_id = None
        job = ReportJob(club_id="", requested_by=requester, kind=kind, format=fmt,
                        campaign_id=campaign_id)  # fmt: skip
        await repository.insert_job(job)
        await self._publish(job)
        return job

    async def _publish(self, job: ReportJob) -> None:
        record = ReportJobV1(
            id=str(job.id), job_id=str(job.id), club_id=job.club_id,
            requested_by=job.requested_by, kind=job.kind.value, format=job.format.value,
            as_of=job.as_of, member_id=job.member_id, requested_at=job.created_at.isoformat(),
        )  # fmt: skip
        try:
            await services.require_producer().send(REPORT_JOBS, str(job.id), record)
        except Exception as exc:
            await self._finish(
                job,
                JobStatus.FAILED,
                error=("service_unavailable", "the report could not be queued"),
            )
            raise ServiceUnavailable("reports are unavailable right now; try again",
                                     details={"service": "Kafka"}) from exc  # fmt: skip

    async def own_job(self, requester: str, job_id: str) -> ReportJob:
        """A crowdfunding statement job of the requester. Raises ``ReportNotFound``."""
        job = await repository.get_job(job_id)
        if job is None or job.requested_by != requester or job.kind not in CAMPAIGN_KINDS:
            raise ReportNotFound("no such report")
        return job

    async def job(self, club_id: str, requester: str, job_id: str) -> ReportJob:
        """The caller's job in this club. Raises ``ClubNotFound``, ``ReportNotFound``."""
        await club_service.check_member(club_id, requester)
        job = await repository.get_job(job_id)
        if job is None or job.club_id != club_id or job.requested_by != requester:
            raise ReportNotFound("no such report")
        return job

    async def jobs(self, club_id: str, requester: str, limit: int = 50) -> list[ReportJob]:
        """The caller's jobs in this club, newest first."""
        await club_service.check_member(club_id, requester)
        return await repository.jobs_of(club_id, requester, limit)

    async def file_of(self, job: ReportJob) -> StoredFile | None:
        return await files_service.get(job.file_id) if job.file_id else None

    # ---- building (the reports agent) ----------------------------------------------------

    async def do_build(self, record: ReportJobV1) -> ReportJob | None:
        """Build one job, at least once: a finished or failed job is left alone; a queued or
        interrupted one is (re)built — the figures are re-read and the file, stored by content
        hash, is the same blob. Failures are stored on the job (``error``) and emitted, never
        raised (the agent goes on with the next job)."""
        job = await repository.get_job(record.job_id)
        if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
        await repository.mark_running(job, _now())
        job.status = JobStatus.RUNNING
        await self._progress(job, 5)
        try:
            on = dt.date.fromisoformat(job.as_of) if job.as_of else None
            figures = await self._figures(job, on)
            await self._progress(job, 40)
            render = render_pdf if job.format == ReportFormat.PDF else render_csv
            data = render(job.kind.value, figures)
            await self._progress(job, 75)
            header = figures.header
            name = f"{_slug(header.club_name)}-{job.kind.value.replace('_', '-')}-{header.as_of}"
            stored = await files_service.do_store_generated(
                job.requested_by, data=data, filename=f"{name}.{job.format.value}",
                content_type=CONTENT_TYPES[job.format], purpose=FilePurpose.REPORT,
                attached_kind="report", attached_id=str(job.id),
                club_id=None if job.club_id == CRM_SCOPE else (job.club_id or None),
            )  # fmt: skip
            await self._progress(job, 90)
            job.file_id = str(stored.id)
            await self._finish(job, JobStatus.DONE)
            await self._progress(job, 100, download=self.download(job, stored))
        except AppError as exc:
            await self._fail(job, exc.code, exc.message)
        except Exception as exc:
            log.exception("report build failed", job_id=str(job.id), error=str(exc))
            await self._fail(job, "internal_error", "the report could not be built")
        return job

    async def _figures(
        self, job: ReportJob, on: dt.date | None
    ) -> build.Figures | campaign_figures.TabularFigures:
        if job.kind == ReportKind.CAMPAIGN_INVESTOR_STATEMENT:
            return await campaign_figures.investor_statement(job.requested_by, _now())
        if job.kind == ReportKind.CAMPAIGN_STATEMENT:
            assert job.campaign_id is not None
            return await campaign_figures.campaign_statement(
                job.campaign_id, job.requested_by, _now()
            )
        if job.kind == ReportKind.CRM_PIPELINE:
            return await build.crm_pipeline(job.requested_by, on)
        if job.kind == ReportKind.VALUATION_STATEMENT:
            return await build.valuation_statement(job.club_id, job.requested_by, on)
        if job.kind == ReportKind.MEMBER_STATUS:
            return await build.member_status(job.club_id, job.requested_by, on)
        if job.kind == ReportKind.TRANSACTION_LEDGER:
            return await build.transaction_ledger(job.club_id, job.requested_by, on)
        return await build.member_statement(
            job.club_id, job.requested_by, job.member_id or job.requested_by, on
        )

    async def job_out(self, job: ReportJob) -> ReportJobOut:
        """``job`` as the API answers it (club and CRM report routes alike), with a fresh
        signed download link once it is done and its file exists."""
        download = None
        if job.status == JobStatus.DONE:
            stored = await self.file_of(job)
            if stored is not None:
                link = self.download(job, stored)
                download = DownloadOut(
                    url=link["url"], expires_at=dt.datetime.fromisoformat(link["expires_at"]),
                    filename=stored.filename, content_type=stored.content_type, size=stored.size,
                )  # fmt: skip
        error = (
            ReportError(code=job.error_code, message=job.error or "") if job.error_code else None
        )
        return ReportJobOut(
            id=str(job.id), club_id=job.club_id, kind=job.kind, format=job.format, as_of=job.as_of,
            member_id=job.member_id, status=job.status, percent=job.percent, error=error,
            created_at=job.created_at, finished_at=job.finished_at, download=download,
        )  # fmt: skip

    def download(self, job: ReportJob, stored: StoredFile) -> dict[str, Any]:
        """A fresh signed link to the finished file, for the requester."""
        link = files_service.link(stored, job.requested_by, "attachment")
        return {
            "url": f"{get_settings().public_url}{link.path}",
            "expires_at": dt.datetime.fromtimestamp(link.expires_at, dt.UTC).isoformat(),
            "filename": stored.filename, "content_type": stored.content_type,
            "size": stored.size,
        }  # fmt: skip

    async def _finish(self, job: ReportJob, status: JobStatus,
                      error: tuple[str, str] | None = None) -> None:  # fmt: skip
        changes: dict[str, Any] = {"status": status.value, "finished_at": _now()}
        if job.file_id:
            changes["file_id"] = job.file_id
        if error is not None:
            changes["error_code"], changes["error"] = error
            job.error_code, job.error = error
        await repository.set_fields(job, changes)
        job.status, job.finished_at = status, changes["finished_at"]

    async def _fail(self, job: ReportJob, code: str, message: str) -> None:
        await self._finish(job, JobStatus.FAILED, (code, message))
        log.warning("report failed", job_id=str(job.id), code=code)
        await self._progress(job, job.percent, error={"code": code, "message": message})

    async def _progress(self, job: ReportJob, percent: int, **extra: Any) -> None:
        """Store the progress (never lower), then emit ``report:progress`` (at most once; a
        client that missed it reads ``GET …/reports/{id}``)."""
        job.percent = max(job.percent, percent)
        await repository.raise_percent(job, job.percent)
        payload = ReportProgressEvent(
            id=f"{job.id}:{job.status.value}:{job.percent}",
            ts=_now().isoformat(),
            job_id=str(job.id),
            club_id=job.club_id,
            kind=job.kind.value,
            format=job.format.value,
            status=job.status.value,
            percent=job.percent,
            **extra,
        )  # the published contract (app/asyncapi.py)
        await events.send(user_room(job.requested_by), REPORT_PROGRESS, payload)


report_service = ReportService()
