"""Every MongoDB query of the reports domain (report jobs)."""

from __future__ import annotations

from typing import Any

from app.db import object_id
from app.reports.documents import JobStatus, ReportJob


async def insert_job(job: ReportJob) -> ReportJob:
    await job.insert()
    return job


async def get_job(job_id: str) -> ReportJob | None:
    oid = object_id(job_id)
    return None if oid is None else await ReportJob.get(oid)


async def jobs_of(club_id: str, requester: str, limit: int) -> list[ReportJob]:
    """A person's jobs in a club, newest first."""
    return (
        await ReportJob.find({"club_id": club_id, "requested_by": requester})
        .sort("-created_at")
        .limit(limit)
        .to_list()
    )


async def mark_running(job: ReportJob, started_at: Any) -> None:
    """A queued or interrupted job starts (again): running, one more attempt."""
    await ReportJob.get_pymongo_collection().update_one(
        {"_id": job.id, "status": {"$in": [JobStatus.QUEUED.value, JobStatus.RUNNING.value]}},
        {"$set": {"status": JobStatus.RUNNING.value, "started_at": started_at},
         "$inc": {"attempts": 1}},
    )  # fmt: skip


async def set_fields(job: ReportJob, changes: dict[str, Any]) -> None:
    await ReportJob.get_pymongo_collection().update_one({"_id": job.id}, {"$set": changes})


async def raise_percent(job: ReportJob, percent: int) -> None:
    """Progress never goes down."""
    await ReportJob.get_pymongo_collection().update_one(
        {"_id": job.id}, {"$max": {"percent": percent}}
    )
