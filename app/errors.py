"""One error shape for every HTTP and socket failure: ``{"error": {"code", "message", "details"}}``.

Each domain failure is an ``AppError`` subclass carrying its HTTP status and a stable code
(docs/architecture.md, errors). Clients switch on ``code``; ``message`` is for people.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace


class AppError(Exception):
    """Base of every expected failure. Subclasses set ``status`` and ``code``."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        # HTTP response headers the error needs (``Retry-After`` on 429, ``WWW-Authenticate``).
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"code": str, "message": str, "details": dict}}``."""
        return error_body(self.code, self.message, self.details)


class ValidationFailed(AppError):
    """The request body, query or socket payload does not match its schema (422)."""

    status = 422
    code = "validation_error"


class UnsupportedMediaType(AppError):
    """A body was sent to a JSON operation without ``Content-Type: application/json`` (415).
    Nothing was changed."""

    status = 415
    code = "unsupported_media_type"


class MalformedJSON(AppError):
    """The request body is not a JSON document we read: not UTF-8, not JSON (including
    ``NaN``/``Infinity`` and lone surrogates), or nested deeper than the limit (400).

    ``details.reason`` is ``not_utf8``, ``syntax`` or ``too_deep``. Nothing was changed.
    """

    status = 400
    code = "malformed_json"


class NotFound(AppError):
    """The thing does not exist, or the caller may not know that it does (404)."""

    status = 404
    code = "not_found"


class RateLimited(AppError):
    """Too many requests of one kind from one client or for one account (429).

    ``details.retry_after`` and the ``Retry-After`` header say after how many seconds to retry.
    """

    status = 429
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: int, details: dict[str, Any] | None = None
    ) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            message,
            details={**(details or {}), "retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


class ServiceUnavailable(AppError):
    """A backing service (MongoDB, Kafka, Redis) did not answer (503).

    ``details["service"]`` names it.
    """

    status = 503
    code = "service_unavailable"


class ServiceStartupError(RuntimeError):
    """Raised at start-up when a backing service cannot be reached; the process then exits.

    The message names the service and its redacted address, e.g.
    ``MongoDB at mongodb://127.0.0.1:1/ did not answer within 8.0 s: …``.
    """

    def __init__(self, service: str, address: str, reason: str) -> None:
        super().__init__(f"{service} at {address} is unreachable: {reason}")
        self.service = service
        self.address = address
        self.reason = reason


def unavailable_service(error: BaseException) -> str | None:
    """The backing service an infrastructure error comes from (``MongoDB``, ``Redis``,
    ``Kafka``), or ``None`` for any other error. Lets handlers answer 503, not 500."""
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
    from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    if isinstance(error, (ConnectionFailure, ServerSelectionTimeoutError)):
        return "MongoDB"
    if isinstance(error, (RedisConnectionError, RedisTimeoutError)):
        return "Redis"
    if isinstance(error, (KafkaConnectionError, KafkaTimeoutError)):
        return "Kafka"
    return None


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the error JSON body used by HTTP responses and socket acknowledgements.

    When the failure happened inside a traced request (app/telemetry.py), ``details.trace_id``
    (32 hex digits) names its trace, so a person reporting the error leads support to it."""
    details = dict(details or {})
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        details.setdefault("trace_id", format(span_context.trace_id, "032x"))
    return {"error": {"code": code, "message": message, "details": details}}
