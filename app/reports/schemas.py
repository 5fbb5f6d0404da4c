"""Request and response shapes of the reports API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator

from app.realtime.contract import ServerEvent
from app.reports.documents import JobStatus, ReportFormat, ReportKind


class ReportRequest(BaseModel):
    """``POST /api/v1/clubs/{id}/reports``. ``date``: the figures as of the latest valuation on
    or before it (the ledger: entries dated on or before it); default the latest.
    ``member_id``: whose member statement (default the caller; others need
    owner/admin/treasurer)."""

    kind: ReportKind
    format: ReportFormat
    date: dt.date | None = None
    member_id: str | None = Field(default=None, max_length=64)

    @field_validator("kind")
    @classmethod
    def _club_kind(cls, kind: ReportKind) -> ReportKind:
        # chit reports are asked for under /api/v1/schemes, campaign statements under
        # /api/v1/me/campaigns/statements
        if kind.value.startswith(("chit_", "campaign_")):
            raise ValueError("a club report is valuation_statement, member_status, "
                             "transaction_ledger or member_statement")  # fmt: skip
        return kind


class ReportError(BaseModel):
    code: str
    message: str


class DownloadOut(BaseModel):
    """A signed link to the finished file, and when it stops working (ask again for a new
    one)."""

    url: str
    expires_at: dt.datetime
    filename: str
    content_type: str
    size: int


class ReportJobOut(BaseModel):
    """A report job: ``queued`` → ``running`` (``percent``) → ``done`` (``download``) or
    ``failed`` (``error``)."""

    id: str
    club_id: str
    kind: ReportKind
    format: ReportFormat
    as_of: str | None
    member_id: str | None
    status: JobStatus
    percent: int
    error: ReportError | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download: DownloadOut | None


class ReportList(BaseModel):
    reports: list[ReportJobOut]


class ReportDownload(BaseModel):
    """A signed link to a finished report (it expires; ``GET …/reports/{id}`` gives a new one)."""

    url: str
    expires_at: str
    filename: str
    content_type: str
    size: int


class ReportProgressEvent(ServerEvent):
    """``report:progress`` to the requester's ``user:<id>``: ``percent`` never goes down; at
    100 a ``download``; on failure ``error`` (``code``, ``message``)."""

    job_id: str
    club_id: str
    kind: str
    format: str
    status: str
    percent: int
    download: ReportDownload | None = None
    error: dict[str, str] | None = None
