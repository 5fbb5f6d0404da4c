"""Races through the HTTP API of the live web server (issue #20): one idempotency key sent ten
times at once, and one refresh token spent twice at once."""

from __future__ import annotations

import uuid

import pytest
from quart import Quart

from app.errors import ServiceUnavailable
from app.idempotency import REPLAY_HEADER, idempotent
from app.identity.login import do_login
from app.identity.signup import do_provision_user
from tests.identity.conftest import Api, Reply
from tests.races.harness import race
from tests.rooms.conftest import club_of, person

pytestmark = pytest.mark.usefixtures("services")


def replay_of(reply: Reply) -> str | None:
    """The ``Idempotent-Replayed`` header of an answer (header names are case-insensitive)."""
    return {k.lower(): v for k, v in reply.headers.items()}.get(REPLAY_HEADER.lower())


async def test_one_idempotency_key_ten_requests_at_once(http: Api) -> None:
    owner, member = await person("owner"), await person("member")
    club = await club_of(owner, member)
    path = f"/api/v1/clubs/{club.id}/contributions"
    body = {"amount": "250.00", "method": "manual", "note": "cash at the meeting"}
    key = {"Idempotency-Key": f"race-{uuid.uuid4().hex}"}

    def send() -> Reply:
        return http.call("POST", path, json=body, token=member.token, headers=key)  # type: ignore[return-value]

    replies: list[Reply] = await race([send] * 10)  # type: ignore[arg-type]
    assert all(isinstance(r, Reply) for r in replies), replies
    first = [r for r in replies if r.status == 201 and replay_of(r) is None]
    replayed = [r for r in replies if r.status == 201 and replay_of(r) == "true"]
    busy = [r for r in replies if (r.status, r.code) == (409, "idempotency_in_progress")]
    assert len(first) == 1, [(r.status, r.body) for r in replies]
    assert len(first) + len(replayed) + len(busy) == 10, [(r.status, r.body) for r in replies]
    assert busy, "no request overlapped the first: the race did not happen"
    assert all(r.body == first[0].body for r in replayed)

    # Exactly one contribution exists; a retry after the first finished replays it.
    listed = await http.call("GET", path, token=member.token)
    assert [c["id"] for c in listed.body["contributions"]] == [first[0].body["id"]]
    again = await send()
    assert (again.status, replay_of(again)) == (201, "true")
    assert again.body == first[0].body
    # The same key with another body is refused, and still nothing new exists.
    other = await http.call("POST", path, json={**body, "amount": "251.00"}, token=member.token,
                            headers=key)  # fmt: skip
    assert (other.status, other.code) == (422, "idempotency_key_reused")
    listed = await http.call("GET", path, token=member.token)
    assert len(listed.body["contributions"]) == 1


async def test_a_server_failure_stores_no_answer_so_the_retry_runs() -> None:
    """``@idempotent`` on a route that fails with a 503 the first time: the key is free again
    (nothing stored), so the retry runs and its 200 is what is replayed afterwards."""
    app = Quart(__name__)
    runs: list[int] = []

    @app.post("/pay")
    @idempotent(lambda: "caller-1")
    async def pay() -> dict[str, int]:
        runs.append(len(runs) + 1)
        if len(runs) == 1:
            raise ServiceUnavailable("the ledger is away", details={"service": "mongodb"})
        return {"run": len(runs)}

    client = app.test_client()
    key = {"Idempotency-Key": f"k-{uuid.uuid4().hex}"}
    failed = await client.post("/pay", json={"amount": "1.00"}, headers=key)
    assert failed.status_code == 503
    retried = await client.post("/pay", json={"amount": "1.00"}, headers=key)
    assert (retried.status_code, await retried.get_json()) == (200, {"run": 2})
    assert REPLAY_HEADER not in retried.headers
    replayed = await client.post("/pay", json={"amount": "1.00"}, headers=key)
    assert (replayed.status_code, replayed.headers.get(REPLAY_HEADER)) == (200, "true")
    assert await replayed.get_json() == {"run": 2} and runs == [1, 2]


async def test_one_refresh_token_spent_twice_at_once(http: Api) -> None:
    """Two refreshes with the same token at once: one rotates it, the other is a reuse — the
    family is revoked, so the winner's new tokens die too."""
    email, password = f"refresh-{uuid.uuid4().hex[:10]}@example.com", "Refresh-race-2026"
    await do_provision_user(email=email, password=password, full_name="Refresh Race")
    pair = await do_login(email, password, None, http.ip)

    def refresh() -> Reply:
        return http.call("POST", "/api/v1/auth/refresh", json={"refresh_token": pair.refresh_token})  # type: ignore[return-value]

    replies: list[Reply] = await race([refresh] * 2)  # type: ignore[arg-type]
    statuses = sorted((r.status, r.code) for r in replies)
    assert statuses == [(200, None), (401, "refresh_token_reused")], statuses
    (winner,) = [r for r in replies if r.status == 200]
    newest = await http.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": winner.body["refresh_token"]}
    )
    assert (newest.status, newest.code) == (401, "session_revoked")
    for token in (pair.access_token, winner.body["access_token"]):
        me = await http.call("GET", "/api/v1/me", token=token)
        assert (me.status, me.code) == (401, "session_revoked")
