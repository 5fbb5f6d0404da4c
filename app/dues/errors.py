"""Failures of the dues domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError


class NoDues(AppError):
    """The club has no monthly dues, or not for that month or member (409)."""

    status = 409
    code = "no_dues"


class DuesAlreadySettled(AppError):
    """That month's dues are already paid or waived (409)."""

    status = 409
    code = "dues_settled"
