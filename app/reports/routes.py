"""Reports HTTP API (``/api/v1/clubs/{id}/reports…``): request a job, follow it, fetch a fresh
signed link to the finished file."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_request, validate_response

from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.reports.schemas import (
    ReportJobOut,
    ReportList,
    ReportRequest,
)
from app.reports.service import report_service

blueprint = Blueprint("reports", __name__, url_prefix="/api/v1/clubs")


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
    return await report_service.job_out(job), 202


@blueprint.get("/<club_id>/reports")
@tag(["reports"])
@require_auth
@validate_response(ReportList)
@document_errors(404)
async def list_reports(club_id: str) -> ReportList:
    """The caller's report jobs in this club, newest first (50 at most)."""
    jobs = await report_service.jobs(club_id, current_principal().user_id)
    return ReportList(reports=[await report_service.job_out(job) for job in jobs])


@blueprint.get("/<club_id>/reports/<job_id>")
@tag(["reports"])
@require_auth
@validate_response(ReportJobOut)
@document_errors(404)
async def get_report(club_id: str, job_id: str) -> ReportJobOut:
    """A job's status; once ``done``, a fresh signed ``download`` link (short-lived: ask again
    when it has expired). Errors: 404 ``report_not_found`` (also someone else's job)."""
    return await report_service.job_out(
        await report_service.job(club_id, current_principal().user_id, job_id)
    )
