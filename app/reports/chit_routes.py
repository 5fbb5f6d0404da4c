"""Chit report HTTP API (``/api/v1/schemes/{id}/reports…``): the foreman (or an admin) asks
for a month's auction minutes or monthly report as PDF, follows the job, and fetches a fresh
signed link to the finished file. Built by the reports agent like the club reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from quart import Blueprint
from quart_schema import tag, validate_request, validate_response

from app.chits.service import Actor
from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.reports.chits import chit_report_service
from app.reports.documents import ReportKind
from app.reports.schemas import ReportJobOut
from app.reports.service import report_service

blueprint = Blueprint("chit_reports", __name__, url_prefix="/api/v1/schemes")


class ChitReportRequest(BaseModel):
    """``POST /api/v1/schemes/{id}/reports``: ``chit_auction_minutes`` (a closed month) or
    ``chit_monthly_report``, for ``month``; always PDF."""

    model_config = ConfigDict(extra="forbid")

    kind: ReportKind
    month: int = Field(ge=1, le=1200)


def _actor() -> Actor:
    principal = current_principal()
    return Actor(principal.user_id, tuple(principal.user.roles))


@blueprint.post("/<scheme_id>/reports")
@tag(["chits", "reports"])
@require_auth
@validate_request(ChitReportRequest)
@validate_response(ReportJobOut, 202)
@document_errors(403, 404, 409, 503)
async def request_chit_report(scheme_id: str, data: ChitReportRequest) -> tuple[ReportJobOut, int]:
    """Ask for a PDF; progress arrives as ``report:progress`` in the caller's room and
    ``GET …/reports/{id}`` gives a ``download`` link once ``done``. Errors: 403
    ``chit_forbidden``; 404 ``scheme_not_found`` / ``report_not_found`` (no such month or
    kind); 409 ``auction_not_open`` (minutes of an auction not closed yet); 503."""
    job = await chit_report_service.do_request(scheme_id, _actor(), data.kind, data.month)
    return await report_service.job_out(job), 202


@blueprint.get("/<scheme_id>/reports/<job_id>")
@tag(["chits", "reports"])
@require_auth
@validate_response(ReportJobOut)
@document_errors(404)
async def get_chit_report(scheme_id: str, job_id: str) -> ReportJobOut:
    """A chit report job's status; once ``done``, a fresh signed ``download`` link. Errors:
    404 ``report_not_found`` (also someone else's job)."""
    job = await chit_report_service.job(scheme_id, current_principal().user_id, job_id)
    return await report_service.job_out(job)
