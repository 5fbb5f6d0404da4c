"""Failures of the reports domain."""

from __future__ import annotations

from app.errors import AppError


class ReportNotFound(AppError):
    """No such report job in this club for the caller (404)."""

    status = 404
    code = "report_not_found"


class ReportNotReady(AppError):
    """The report is not built yet, or failed (409); ``details.status``."""

    status = 409
    code = "report_not_ready"
