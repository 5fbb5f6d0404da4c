"""Decorator for Socket.IO event handlers: validate the payload, map errors to the ack shape."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from app.errors import AppError, error_body, unavailable_service
from app.logging import get_logger
from app.metrics import SOCKET_EVENTS

log = get_logger(__name__)

Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]


def socket_handler(
    schema: type[BaseModel],
) -> Callable[[Callable[[str, Any], Awaitable[dict[str, Any]]]], Handler]:
    """Wrap ``handler(sid, model)`` so it receives a validated ``schema`` instance.

    The wrapped handler returns the acknowledgement. Invalid payloads are acknowledged with
    ``{"ok": false, "error": {"code": "validation_error", …}}``, ``AppError`` with its own code,
    anything else with ``internal_error`` (logged); nothing is changed in those cases.
    """

    def decorate(handler: Callable[[str, Any], Awaitable[dict[str, Any]]]) -> Handler:
        event = handler.__name__

        @functools.wraps(handler)
        async def wrapper(sid: str, data: Any = None) -> dict[str, Any]:
            SOCKET_EVENTS.labels(event).inc()
            try:
                request = schema.model_validate(data if data is not None else {})
                return await handler(sid, request)
            except ValidationError as exc:
                errors = [
                    {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                    for e in exc.errors()
                ]
                body = error_body("validation_error", "invalid payload", {"errors": errors})
            except AppError as exc:
                body = exc.to_dict()
            except Exception as exc:
                service = unavailable_service(exc)
                if service is not None:
                    body = error_body("service_unavailable", f"{service} is not answering",
                                      {"service": service})  # fmt: skip
                else:
                    log.exception("socket handler failed", socket_event=event, sid=sid)
                    body = error_body("internal_error", "something went wrong")
            return {"ok": False, **body}

        return wrapper

    return decorate
