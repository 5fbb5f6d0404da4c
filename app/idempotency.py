"""``Idempotency-Key`` for money-moving POSTs (docs/architecture.md, idempotency).

The first request with a key runs and its response is stored; the same key with the same body
replays the stored response (header ``Idempotent-Replayed: true``) without running anything;
the same key with a different body gets 422 ``idempotency_key_reused``; a retry while the first
is still running gets 409 ``idempotency_in_progress``. Keys are scoped per caller and route and
kept 24 hours. A 5xx is not stored, so the client may retry it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError
from quart import Response, current_app, jsonify, request

from app.errors import AppError

KEY_HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
TTL_SECONDS = 24 * 3600
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


class IdempotencyRecord(Document):
    """The stored outcome of one keyed request."""

    scope: str
    key: str
    request_hash: str
    done: bool = False
    status: int | None = None
    body: str | None = None
    content_type: str | None = None
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    class Settings:
        name = "idempotency_records"
        indexes = [  # noqa: RUF012  (Beanie reads it as a class attribute)
            IndexModel([("scope", ASCENDING), ("key", ASCENDING)], unique=True, name="scope_key"),
            IndexModel([("created_at", ASCENDING)], expireAfterSeconds=TTL_SECONDS, name="ttl"),
        ]


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
            try:
                await record.insert()
            except DuplicateKeyError:
                return await _replay(scope, key, digest)
            try:
                result = await handler(*args, **kwargs)
            except AppError as error:
                response = jsonify(error.to_dict())
                response.status_code = error.status
                for name, value in error.headers.items():
                    response.headers[name] = value
                if error.status >= 500:  # the client may retry a server-side failure
                    await record.delete()
                else:
                    await _store(record, response)
                return response
            except BaseException:
                await record.delete()
                raise
            made: Any = await current_app.make_response(result)
            if made.status_code >= 500:
                await record.delete()
            else:
                await _store(record, made)
            return made

        return wrapper  # type: ignore[return-value]

    return decorate


async def _store(record: IdempotencyRecord, response: Response) -> None:
    body = await response.get_data(as_text=True)
    await IdempotencyRecord.get_pymongo_collection().update_one(
        {"_id": record.id},
        {"$set": {"done": True, "status": response.status_code, "body": body,
                  "content_type": response.content_type}},
    )  # fmt: skip


async def _replay(scope: str, key: str, digest: str) -> Response:
    stored = await IdempotencyRecord.find_one({"scope": scope, "key": key})
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
