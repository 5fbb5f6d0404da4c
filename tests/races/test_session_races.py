"""Refresh-token reuse revokes the whole login, tab sessions included (issue #20): a tab
session opened by ``/auth/refresh/tab`` dies with the session it came from, and ``/refresh``
racing ``/refresh/tab`` with one token leaves no live session."""

from __future__ import annotations

import uuid

import pytest

from app.identity.login import do_login
from app.identity.schemas import TokenPair
from app.identity.signup import do_provision_user
from tests.identity.conftest import Api, Reply
from tests.races.harness import race

pytestmark = pytest.mark.usefixtures("services")


async def login(http: Api) -> TokenPair:
    email, password = f"tabs-{uuid.uuid4().hex[:10]}@example.com", "Tab-family-2026"
    await do_provision_user(email=email, password=password, full_name="Tab Family")
    return await do_login(email, password, None, http.ip)


async def assert_dead(http: Api, access: list[str], refresh: list[str]) -> None:
    """Every access token is refused and no refresh token rotates any more."""
    for token in access:
        me = await http.call("GET", "/api/v1/me", token=token)
        assert (me.status, me.code) == (401, "session_revoked"), me.body
    for token in refresh:
        again = await http.call("POST", "/api/v1/auth/refresh", json={"refresh_token": token})
        assert again.status == 401 and again.code in (
            "session_revoked", "refresh_token_reused",
        ), again.body  # fmt: skip


async def test_a_reused_token_revokes_the_tab_sessions_made_from_its_login(http: Api) -> None:
    pair = await login(http)
    opened = await http.call("POST", "/api/v1/auth/refresh/tab",
                             json={"refresh_token": pair.refresh_token})  # fmt: skip
    assert opened.status == 200, opened.body
    session, tab = opened.body["session"], opened.body["tab"]
    # A tab of the tab: the same login still.
    nested = await http.call("POST", "/api/v1/auth/refresh/tab",
                             json={"refresh_token": tab["refresh_token"]})  # fmt: skip
    assert nested.status == 200, nested.body
    tab2, grandchild = nested.body["session"], nested.body["tab"]
    for token in (session, tab2, grandchild):
        me = await http.call("GET", "/api/v1/me", token=token["access_token"])
        assert me.status == 200, me.body

    # The first (spent) token is presented again: theft — every session of the login ends.
    reused = await http.call("POST", "/api/v1/auth/refresh",
                             json={"refresh_token": pair.refresh_token})  # fmt: skip
    assert (reused.status, reused.code) == (401, "refresh_token_reused")
    await assert_dead(
        http,
        [t["access_token"] for t in (session, tab2, grandchild)],
        [t["refresh_token"] for t in (session, tab2, grandchild)],
    )


async def test_another_login_of_the_same_person_lives_on(http: Api) -> None:
    pair = await login(http)
    opened = await http.call("POST", "/api/v1/auth/refresh/tab",
                             json={"refresh_token": pair.refresh_token})  # fmt: skip
    tab = opened.body["tab"]
    reused = await http.call("POST", "/api/v1/auth/refresh/tab",
                             json={"refresh_token": tab["refresh_token"]})  # fmt: skip
    assert reused.status == 200
    again = await http.call("POST", "/api/v1/auth/refresh/tab",
                            json={"refresh_token": tab["refresh_token"]})  # fmt: skip
    assert (again.status, again.code) == (401, "refresh_token_reused")
    # The whole login is gone, from the root session down.
    await assert_dead(http, [opened.body["session"]["access_token"]],
                      [opened.body["session"]["refresh_token"]])  # fmt: skip


async def test_refresh_racing_refresh_tab_with_one_token_leaves_no_live_session(
    http: Api,
) -> None:
    seen: set[tuple[int, str | None]] = set()
    for round_ in range(24):  # both orders of the race, as the barrier lets them fall
        if round_ >= 6 and {(200, None), (401, "refresh_token_reused")} <= seen:
            break
        pair = await login(http)
        body = {"refresh_token": pair.refresh_token}

        async def refresh(path: str, body: dict[str, str] = body) -> Reply:
            return await http.call("POST", f"/api/v1/auth/{path}", json=body)

        replies: list[Reply] = await race(
            [lambda: refresh("refresh"), lambda: refresh("refresh/tab")]
        )  # type: ignore[assignment]
        assert all(isinstance(r, Reply) for r in replies), replies
        assert sorted(r.status for r in replies) in ([200, 401], [401, 401]), [
            (r.status, r.body) for r in replies
        ]
        assert any(r.code == "refresh_token_reused" for r in replies)
        seen.update((r.status, r.code) for r in replies)
        access, refresh_tokens = [pair.access_token], []
        for reply in replies:
            if reply.status != 200:
                continue
            pairs = (
                [reply.body["session"], reply.body["tab"]] if "tab" in reply.body else [reply.body]
            )
            access += [p["access_token"] for p in pairs]
            refresh_tokens += [p["refresh_token"] for p in pairs]
        await assert_dead(http, access, refresh_tokens)
    assert (200, None) in seen and (401, "refresh_token_reused") in seen
