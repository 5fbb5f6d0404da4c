"""A link opened in a second tab stays signed in (issue #14): the signed-in tab spends its
refresh token at ``POST /auth/refresh/tab`` and gets its own next pair plus a separate session
for the new tab. Each tab then rotates its own token family: refreshing, signing out or a
reused (stolen) token in one leaves the other signed in; an unknown or spent token opens
nothing."""

from __future__ import annotations

from tests.identity.conftest import Api, provision


async def test_a_second_tab_gets_its_own_session(api: Api) -> None:
    account = await provision(tag="tabs")
    first = await api.tokens(account)

    opened = await api.call("POST", "/api/v1/auth/refresh/tab",
                            json={"refresh_token": first["refresh_token"]})  # fmt: skip
    assert opened.status == 200, opened.body
    mine, tab = opened.body["session"], opened.body["tab"]
    assert len({first["refresh_token"], mine["refresh_token"], tab["refresh_token"]}) == 3
    assert opened.headers.get("Cache-Control", "").startswith("no-store")
    for pair in (mine, tab):
        me = await api.call("GET", "/api/v1/me", token=pair["access_token"])
        assert (me.status, me.body["id"]) == (200, account.user_id)

    # Each tab rotates its own family.
    for pair in (mine, tab):
        turned = await api.call("POST", "/api/v1/auth/refresh",
                                json={"refresh_token": pair["refresh_token"]})  # fmt: skip
        assert turned.status == 200, turned.body
        pair.update(turned.body)

    # Signing out of the new tab leaves the first one signed in.
    out = await api.call("POST", "/api/v1/auth/logout", json={"all_sessions": False},
                         token=tab["access_token"])  # fmt: skip
    assert out.status == 200, out.body
    gone = await api.call("POST", "/api/v1/auth/refresh",
                          json={"refresh_token": tab["refresh_token"]})  # fmt: skip
    assert gone.status == 401
    still = await api.call("GET", "/api/v1/me", token=mine["access_token"])
    assert still.status == 200

    # A spent token opens no tab (and, being reused, ends its own family as /refresh does).
    spent = await api.call("POST", "/api/v1/auth/refresh/tab",
                           json={"refresh_token": first["refresh_token"]})  # fmt: skip
    assert (spent.status, spent.code) == (401, "refresh_token_reused")
    unknown = await api.call("POST", "/api/v1/auth/refresh/tab",
                             json={"refresh_token": "x" * 40})  # fmt: skip
    assert (unknown.status, unknown.code) == (401, "refresh_token_invalid")
