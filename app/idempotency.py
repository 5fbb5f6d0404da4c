"""``Idempotency-Key`` for money-moving POSTs (docs/architecture.md, idempotency).

The first request with a key runs and its response is stored; the same key with the same body
replays the stored response (header ``Idempotent-Replayed: true``) without running anything;
the same key with a different body gets 422 ``idempotency_key_reused``; a retry while the first
is still running gets 409 ``idempotency_in_progress``. Keys are scoped per caller and route and
kept 24 hours. A 5xx is not stored, so the client may retry it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from quart import Response, current_app, jsonify, request

from app import idempotency_store as store
from app.errors import AppError
from app.idempotency_store import IdempotencyRecord

KEY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class IdempotencyKeyRequired(AppError):
    """A money-moving POST came without an ``Idempotency-Key`` header (400)."""

    status = 400
    code = "idempotency_key_required"


class IdempotencyKeyReused(AppError):
    """The key was used before with a different request body (422)."""

    status = 422
    code = "idempotency_key_reused"


class IdempotencyInProgress(AppError):
    """The first request with this key has not finished yet (409); retry shortly."""

    status = 409
    code = "idempotency_in_progress"


def _request_hash(method: str, path: str, body: bytes) -> str:
    try:  # the same JSON with other spacing or key order is the same request
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def idempotent(caller: Callable[[], str]) -> Callable[[F], F]:
    """Make a POST route idempotent on its ``Idempotency-Key`` header.

    ``caller()`` names who is calling (e.g. the authenticated user's id), so one caller's key
    never collides with another's. Put it *inside* the authentication decorator.

    Raises (as responses): ``IdempotencyKeyRequired`` (400), ``IdempotencyKeyReused`` (422),
    ``IdempotencyInProgress`` (409).
    """

    def decorate(handler: F) -> F:
        @functools.wraps(handler)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = request.headers.get(KEY_HEADER, "").strip()
            if not key or len(key) > MAX_KEY_LENGTH:
                raise IdempotencyKeyRequired(
                    f"send an {KEY_HEADER} header (1–{MAX_KEY_LENGTH} characters) with this request"
                )
            route = request.url_rule.rule if request.url_rule is not None else request.path
            scope = f"{caller()}:{request.method}:{route}"
            raw: bytes = await request.get_data(as_text=False)  # type: ignore[assignment]
            digest = _request_hash(request.method, request.path, raw)
            record = IdempotencyRecord(scope=scope, key=key, request_hash=digest)
            if not await store.claim(record):
                return await _replay(scope, key, digest)
            try:
                result = await handler(*args, **kwargs)
            except AppError as error:
                response = jsonify(error.to_dict())
                response.status_code = error.status
                for name, value in error.headers.items():
                    response.headers[name] = value
                if error.status >= 500:  # the client may retry a server-side failure
                    await store.forget(record)
                else:
                    await _store(record, response)
                return response
            except BaseException:
                await store.forget(record)
                raise
            made: Any = await current_app.make_response(result)
            if made.status_code >= 500:
                await store.forget(record)
            else:
                await _store(record, made)
            return made

        return wrapper  # type: ignore[return-value]

    return decorate


async def _store(record: IdempotencyRecord, response: Response) -> None:
    body = await response.get_data(as_text=True)
    await store.finish(record, response.status_code, body, response.content_type)


async def _replay(scope: str, key: str, digest: str) -> Response:
    stored = await store.find(scope, key)
    if stored is None:  # expired between the insert and now: the client may retry
        raise IdempotencyInProgress("the earlier request with this key is being cleared")
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(
            f"this {KEY_HEADER} was used with a different request",
            details={"key": key},
        )
    if not stored.done or stored.status is None:
        raise IdempotencyInProgress("the first request with this key is still running")
    response = Response(stored.body or "", status=stored.status,
                        content_type=stored.content_type or "application/json")  # fmt: skip
    response.headers[REPLAY_HEADER] = "true"
    return response
