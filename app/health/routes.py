"""``GET /api/health`` (the process is alive) and ``GET /api/ready`` (its services answer)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel
from quart import Blueprint
from quart_schema import tag, validate_response

from app.config import get_settings
from app.errors import ServiceUnavailable
from app.extensions import services

blueprint = Blueprint("health", __name__)


class Health(BaseModel):
    """The process answers."""

    status: str


class CheckResult(BaseModel):
    """One service's check: ``ok`` and the round trip in milliseconds, or the error."""

    ok: bool
    latency_ms: int | None = None
    error: str | None = None


class Readiness(BaseModel):
    """Every service this process needs, checked now."""

    status: str
    checks: dict[str, CheckResult]


@blueprint.get("/api/health")
@tag(["health"])
@validate_response(Health)
async def health() -> Health:
    """Liveness: answers 200 while the process runs, whatever its services do."""
    return Health(status="ok")


async def _timed(check: Any) -> CheckResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), get_settings().service_timeout_seconds / 2)
    except Exception as exc:  # a readiness probe reports every failure, it never raises
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return CheckResult(ok=False, error=message[:200])
    return CheckResult(ok=True, latency_ms=round((time.perf_counter() - started) * 1000))


async def _mongo() -> None:
    if services.mongo is None:
        raise RuntimeError("not connected")
    await services.mongo.admin.command("ping")


async def _redis() -> None:
    if services.redis is None:
        raise RuntimeError("not connected")
    await services.redis.ping()


async def _kafka() -> None:
    if services.kafka_admin is None:
        raise RuntimeError("not connected")
    await services.kafka_admin.describe_cluster()


@blueprint.get("/api/ready")
@tag(["health"])
@validate_response(Readiness, 200)
async def ready() -> Readiness:
    """Readiness: 200 when MongoDB, Kafka and Redis all answer; 503 naming those that did not.

    Errors: 503 ``service_unavailable`` with ``details.failed`` (service names) and ``checks``.
    """
    names = ("mongodb", "kafka", "redis")
    results = await asyncio.gather(_timed(_mongo), _timed(_kafka), _timed(_redis))
    checks = dict(zip(names, results, strict=True))
    failed = [name for name, result in checks.items() if not result.ok]
    if failed:
        raise ServiceUnavailable(
            f"not ready: {', '.join(failed)} did not answer",
            details={
                "failed": failed,
                "checks": {k: v.model_dump() for k, v in checks.items()},
            },
        )
    return Readiness(status="ready", checks=checks)
