"""Reports HTTP API (``/api/v1/clubs/{id}/reports…``): request a job, follow it, fetch a fresh
signed link to the finished file."""

from __future__ import annotations

import datetime as dt

from quart import Blueprint
from quart_schema import tag, validate_request, validate_response

from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.reports.documents import JobStatus, ReportJob
from app.reports.schemas import (
    DownloadOut,
    ReportError,
    ReportJobOut,
    ReportList,
    ReportRequest,
)
from app.reports.service import report_service

blueprint = Blueprint("reports", __name__, url_prefix="/api/v1/clubs")


async def _out(job: ReportJob) -> ReportJobOut:
    download = None
    if job.status == JobStatus.DONE:
        stored = await report_service.file_of(job)
        if stored is not None:
            link = report_service.download(job, stored)
            download = DownloadOut(
                url=link["url"], expires_at=dt.datetime.fromisoformat(link["expires_at"]),
                filename=stored.filename, content_type=stored.content_type, size=stored.size,
            )  # fmt: skip
    error = ReportError(code=job.error_code, message=job.error or "") if job.error_code else None
    return ReportJobOut(
        id=str(job.id), club_id=job.club_id, kind=job.kind, format=job.format, as_of=job.as_of,
        member_id=job.member_id, status=job.status, percent=job.percent, error=error,
        created_at=job.created_at, finished_at=job.finished_at, download=download,
    )  # fmt: skip


@blueprint.post("/<club_id>/reports")
@tag(["reports"])
@require_auth
@validate_request(ReportRequest)
@validate_response(ReportJobOut, 202)
@document_errors(403, 404, 422, 503)
async def request_report(club_id: str, data: ReportRequest) -> tuple[ReportJobOut, int]:
    """Ask for a report (``valuation_statement``, ``member_status``, ``transaction_ledger``,
    ``member_statement``) as ``csv`` or ``pdf``; built in the background. Progress arrives as
    ``report:progress`` (``percent``; at 100 a ``download`` link) in the caller's ``user:<id>``
    room; ``GET …/reports/{id}`` gives the same. Errors: 404 ``club_not_found``; 403
    ``role_required`` (another member's statement); 422 ``invalid_valuation`` (nothing valued
    on or before the date); 503 ``service_unavailable``."""
    job = await report_service.do_request(
        club_id, current_principal().user_id, kind=data.kind, fmt=data.format, on=data.date,
        member_id=data.member_id,
    )  # fmt: skip
    return await _out(job), 202


@blueprint.get("/<club_id>/reports")
@tag(["reports"])
@require_auth
@validate_response(ReportList)
@document_errors(404)
async def list_reports(club_id: str) -> ReportList:
    """The caller's report jobs in this club, newest first (50 at most)."""
    jobs = await report_service.jobs(club_id, current_principal().user_id)
    return ReportList(reports=[await _out(job) for job in jobs])


@blueprint.get("/<club_id>/reports/<job_id>")
@tag(["reports"])
@require_auth
@validate_response(ReportJobOut)
@document_errors(404)
async def get_report(club_id: str, job_id: str) -> ReportJobOut:
    """A job's status; once ``done``, a fresh signed ``download`` link (short-lived: ask again
    when it has expired). Errors: 404 ``report_not_found`` (also someone else's job)."""
    return await _out(await report_service.job(club_id, current_principal().user_id, job_id))
