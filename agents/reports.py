"""Reports agent: builds each requested report (keyed by job id) through ``report_service``
(club reports) or ``chit_report_service`` (chit minutes and monthly reports), which store the
file and emit ``report:progress`` to the requester's room."""

from __future__ import annotations

from typing import Any

from agents.context import worker_context
from app.reports.chits import CHIT_KINDS, chit_report_service
from app.reports.service import report_service
from streams.app import app, report_jobs
from streams.records import ReportJobV1

_CHIT_KINDS = {kind.value for kind in CHIT_KINDS}


@app.agent(report_jobs)
async def build_reports(jobs: Any) -> None:
    """Consume report jobs and hand each to the service of its kind."""
    await worker_context()
    job: ReportJobV1
    async for job in jobs:
        if job.kind in _CHIT_KINDS:
            await chit_report_service.do_build(job)
        else:
            await report_service.do_build(job)
