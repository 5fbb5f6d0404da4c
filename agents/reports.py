"""Reports agent: builds each requested report (keyed by job id) through ``report_service``,
which stores the file and emits ``report:progress`` to the requester's room."""

from __future__ import annotations

from typing import Any

from agents.context import worker_context
from app.reports.service import report_service
from streams.app import app, report_jobs
from streams.records import ReportJobV1


@app.agent(report_jobs)
async def build_reports(jobs: Any) -> None:
    """Consume report jobs and hand each to ``report_service.do_build``."""
    await worker_context()
    job: ReportJobV1
    async for job in jobs:
        await report_service.do_build(job)
