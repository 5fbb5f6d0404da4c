"""Bad input gets a clear error, never a 500, and changes nothing (docs: architecture rule 7).

Found by fuzzing the OpenAPI description (issue 13): bodies that are not UTF-8, JSON nested
thousands of levels deep, and integers above 2^63−1 in cursors. Every JSON operation of
``/openapi.json`` is tried, with and without a token, against the real services.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import socketio
from quart import Quart

from app.config import Settings
from app.extensions import Services
from app.identity.signup import do_provision_user
from app.web import create_app
from tests.conftest import LiveStack

NOT_UTF8 = b'{"email": "\xff\xfe@example.com", "name": "\xc3\x28"}'
DEEP_ARRAY = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 5000 + b"1" + b"}" * 5000
BAD_BODIES = {"not_utf8": NOT_UTF8, "deep_array": DEEP_ARRAY, "deep_object": DEEP_OBJECT}
INT64_MAX = 2**63 - 1
# What a refused request may still write, by design: the idempotency record of the refused
# answer (so the same key replays it).
BOOKKEEPING = {"idempotency_records"}


@pytest.fixture(scope="module")
async def app(settings: Settings, services: Services) -> Quart:
    return create_app(settings)


def _client_ip() -> str:
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


@pytest.fixture(scope="module")
async def token(app: Quart) -> str:
    """An access token of a real, ACTIVE account, from the login route."""
    email, password = f"bad-input-{uuid.uuid4().hex[:10]}@example.com", "Tamarind-bad-input-1"
    await do_provision_user(email=email, password=password, full_name="Bad Input", roles=None)
    reply = await app.test_client().post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": _client_ip()},
    )
    assert reply.status_code == 200, await reply.get_json()
    return str((await reply.get_json())["access_token"])


def _json_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(method, concrete path) of every operation whose request body is JSON."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                concrete = re.sub(r"\{[^}]+\}", "0123456789abcdef01234567", path)
                found.append((method.upper(), concrete))
    return found


async def _counts(services: Services, settings: Settings) -> dict[str, int]:
    """Documents per collection of this session's database (the bookkeeping ones left out)."""
    assert services.mongo is not None
    database = services.mongo[settings.mongodb_database]
    return {
        name: await database[name].count_documents({})
        for name in sorted(await database.list_collection_names())
        if name not in BOOKKEEPING and not name.startswith(BACKGROUND)
    }


# Collections the live worker's timers write on their own while the suite runs (reminders,
# scores, drift checks, auction and reservation sweeps, notifications): a change there is not
# caused by the refused requests, so it is left out of "nothing changed".
BACKGROUND = ("crm_", "chit", "campaign", "advisory_", "notification", "kyc_expiry")


async def _send(
    app: Quart, method: str, path: str, body: bytes, token: str | None = None
) -> tuple[int, Any]:
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": uuid.uuid4().hex,
        "X-Forwarded-For": _client_ip(),
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await app.test_client().open(path, method=method, data=body, headers=headers)
    return response.status_code, await response.get_json()


async def test_unreadable_json_bodies_are_400_on_every_json_route_and_change_nothing(
    app: Quart, token: str, services: Services, settings: Settings
) -> None:
    document = await (await app.test_client().get("/openapi.json")).get_json()
    operations = _json_operations(document)
    assert len(operations) > 30  # the whole API, not a corner of it
    before = await _counts(services, settings)
    wrong: list[str] = []
    refused = 0
    answered: set[tuple[str, str]] = set()  # read the body, or refused the caller's role first
    for method, path in operations:
        for name, body in BAD_BODIES.items():
            for bearer in (None, token):
                status, answer = await _send(app, method, path, body, bearer)
                code = (answer or {}).get("error", {}).get("code")
                if status == 400 or (bearer and (status, code) == (403, "forbidden")):
                    answered.add((method, path))
                if status == 400:
                    refused += 1
                    if code != "malformed_json":
                        wrong.append(f"{method} {path} {name}: 400 {code}")
                # Without a token an authenticated route refuses first (401); with one, a few
                # routes check the caller's role before reading the body (403).
                elif (status, code) not in {
                    (401, "authentication_required"),
                    (403, "forbidden"),
                }:
                    wrong.append(f"{method} {path} {name} token={bool(bearer)}: {status} {code}")
    assert not wrong, "\n".join(wrong)
    # every route either read the body (400) or, for a caller without its platform role,
    # refused before reading it (403) — none answered anything else
    assert answered == set(operations), sorted(set(operations) - answered)
    assert refused > 0
    assert await _counts(services, settings) == before


async def test_a_malformed_body_names_why(app: Quart) -> None:
    cases = {
        NOT_UTF8: "not_utf8",
        DEEP_OBJECT: "too_deep",
        b'{"a": ' * 40 + b"1" + b"}" * 40: "too_deep",  # parses, but deeper than the limit
        b'{"email": NaN}': "syntax",
        b'{"email": 1e400}': "syntax",  # a float that overflows to infinity
        b'{"email": "\\ud800"}': "syntax",  # a lone surrogate cannot be stored as UTF-8
        b'{"email": ': "syntax",
        b"": "syntax",
    }
    for body, reason in cases.items():
        status, answer = await _send(app, "POST", "/api/v1/auth/login", body)
        assert status == 400, (body[:40], answer)
        assert answer["error"]["code"] == "malformed_json"
        assert answer["error"]["details"]["reason"] == reason, (body[:40], answer)


async def test_json_within_the_limits_still_reads(app: Quart) -> None:
    """Nesting under the limit and non-ASCII text parse as before: the login fails on the
    account, not on the body."""
    body = '{"email": "ज्योति@example.com", "password": "x", "extra": [[[[[[[[1]]]]]]]]}'
    status, answer = await _send(app, "POST", "/api/v1/auth/login", body.encode())
    assert status in (401, 422), answer
    assert answer["error"]["code"] != "malformed_json"


async def test_a_body_that_is_not_declared_json_is_415_and_changes_nothing(
    app: Quart, services: Services, settings: Settings
) -> None:
    before = await _counts(services, settings)
    body = b'{"email": "a@example.com", "password": "correct horse battery"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        response = await app.test_client().post(
            "/api/v1/auth/signup",
            data=body,
            headers={"Content-Type": content_type, "X-Forwarded-For": _client_ip()},
        )
        answer = await response.get_json()
        assert response.status_code == 415, answer
        assert answer["error"]["code"] == "unsupported_media_type"
        assert "application/json" in answer["error"]["message"]
    assert await _counts(services, settings) == before


async def test_a_body_over_the_limit_is_413_payload_too_large(app: Quart) -> None:
    limit = int(app.config["MAX_CONTENT_LENGTH"])
    response = await app.test_client().post(
        "/api/v1/auth/login",
        data=b'{"email": "' + b"a" * (limit + 10) + b'"}',
        headers={"Content-Type": "application/json", "X-Forwarded-For": _client_ip()},
    )
    assert response.status_code == 413
    assert (await response.get_json())["error"]["code"] == "payload_too_large"


@pytest.fixture(scope="module")
async def club_id(app: Quart, token: str) -> str:
    response = await app.test_client().post(
        "/api/v1/clubs",
        json={"name": "Cursor Club"},
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": _client_ip()},
    )
    assert response.status_code == 201, await response.get_json()
    return str((await response.get_json())["id"])


CURSORS = [
    ("/api/v1/notifications", "before"),
    ("/api/v1/notifications", "after_seq"),
    ("/api/v1/clubs/{club}/messages", "before"),
    ("/api/v1/clubs/{club}/events", "after_seq"),
]


@pytest.mark.parametrize(("path", "name"), CURSORS)
async def test_cursors_above_int64_are_422_and_the_largest_int64_works(
    app: Quart, token: str, club_id: str, path: str, name: str
) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": _client_ip()}
    url = path.format(club=club_id)
    for value in (INT64_MAX + 1, 10**40):
        response = await client.get(url, query_string={name: str(value)}, headers=headers)
        answer = await response.get_json()
        assert response.status_code == 422, answer
        assert answer["error"]["code"] == "validation_error"
        assert answer["error"]["details"]["errors"][0]["loc"] == [name]
    response = await client.get(url, query_string={name: str(INT64_MAX)}, headers=headers)
    assert response.status_code == 200, await response.get_json()


async def test_mark_read_up_to_a_seq_above_int64_is_422_and_changes_nothing(
    app: Quart, token: str, services: Services, settings: Settings
) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "X-Forwarded-For": _client_ip()}
    before = await _counts(services, settings)
    for value in (INT64_MAX + 1, 10**40):
        response = await client.post(
            "/api/v1/notifications/read", json={"up_to_seq": value}, headers=headers
        )
        answer = await response.get_json()
        assert response.status_code == 422, answer
        assert answer["error"]["code"] == "validation_error"
    assert await _counts(services, settings) == before
    response = await client.post(
        "/api/v1/notifications/read", json={"up_to_seq": INT64_MAX}, headers=headers
    )
    assert response.status_code == 200, await response.get_json()


async def test_the_openapi_description_lists_every_answer_with_its_schema(app: Quart) -> None:
    """Every operation documents a typed success answer and the error statuses its shape can
    produce (app/openapi.py), each error with the one error body."""
    document = await (await app.test_client().get("/openapi.json")).get_json()
    missing: list[str] = []
    for path, operations in document["paths"].items():
        assert path.startswith("/api/"), path  # the web client's pages are not API operations
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            responses = operation["responses"]
            successes = [s for s in responses if s[0] in "23"]
            if not successes:
                missing.append(f"{label}: no success answer")
            for status in successes:
                answer = responses[status]
                if status == "204":  # No Content: an answer without a body, by definition
                    continue
                if "content" not in answer and "headers" not in answer:
                    missing.append(f"{label}: {status} has no schema")
            expected = {"503"} if path != "/api/health" else set()
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                expected |= {"400", "413", "415", "422"}
            if "{" in path:
                expected.add("404")
            if operation.get("security"):
                expected |= {"401", "403"}
            if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
                expected |= {"400", "409", "422"}
            if expected - set(responses):
                missing.append(f"{label}: {sorted(expected - set(responses))} undocumented")
            for status in set(responses) - set(successes):
                schema = responses[status].get("content", {}).get("application/json", {})
                if schema.get("schema", {}).get("title") != "ErrorResponse":
                    missing.append(f"{label}: {status} is not the error body")
    assert not missing, "\n".join(missing)
    # Money-moving POSTs carry their Idempotency-Key header in the description.
    contribution = document["paths"]["/api/v1/clubs/{club_id}/contributions"]["post"]
    assert {"name": "Idempotency-Key", "in": "header", "required": True}.items() <= next(
        p for p in contribution["parameters"] if p["name"] == "Idempotency-Key"
    ).items()


async def test_room_cursors_above_int64_over_the_socket_are_refused(
    live_stack: LiveStack, token: str, club_id: str
) -> None:
    """``room:join`` / ``room:sync`` acknowledge ``validation_error`` for an ``after_seq`` above
    2^63−1, as the HTTP cursors do (it was accepted); the largest int64 works."""
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(live_stack.url, transports=["websocket"], auth={"token": token})
    try:
        for event in ("room:join", "room:sync"):
            too_big = {"club_id": club_id, "after_seq": INT64_MAX + 1}
            ack = await sio.call(event, too_big, timeout=15)
            assert ack["ok"] is False and ack["error"]["code"] == "validation_error", (event, ack)
        ack = await sio.call("room:join", {"club_id": club_id, "after_seq": INT64_MAX}, timeout=15)
        assert ack.get("ok", True) is not False and ack["club_id"] == club_id, ack
    finally:
        await sio.disconnect()
