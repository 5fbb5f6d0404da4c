"""OpenAPI helpers: the one error body as a schema, and a decorator that documents the error
statuses of a route (the codes themselves are listed in each route's docstring)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field
from quart_schema import document_response

T = TypeVar("T", bound=Callable[..., Any])

BEARER_SCHEME: dict[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}
}


class ErrorDetail(BaseModel):
    """``code`` is stable (clients switch on it); ``message`` is for people."""

    code: str = Field(examples=["invalid_credentials"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    """Every error: ``{"error": {"code", "message", "details"}}``."""

    error: ErrorDetail


def document_errors(*statuses: int) -> Callable[[T], T]:
    """Document ``ErrorResponse`` for each of ``statuses`` on the decorated route."""

    def decorate(func: T) -> T:
        for status in statuses:
            func = document_response(ErrorResponse, status)(func)
        return func

    return decorate
