"""Login with Google through OpenID Connect — driven against the local provider
(tests/identity/oidc_provider.py) by configuration only: the same code path as production."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from app.identity.documents import User
from tests.identity.conftest import Account, Api, Reply, new_email
from tests.identity.oidc_provider import OidcProvider

START = "/api/v1/auth/oauth/google/start"


async def _flow(api: Api, oidc: OidcProvider, identity: dict[str, object]) -> tuple[str, Reply]:
    """Start at the app, consent at the provider; return the callback URL and its answer."""
    oidc.next_identity = identity
    start = await api.call("GET", START, redirects=False)
    assert start.status == 302, start.body
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{oidc.url}/authorize")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    consent = await api.call("GET", authorize, redirects=False)
    assert consent.status == 302, consent.body
    callback = consent.headers["Location"]
    return callback, await api.call("GET", callback)


def _google(email: str, verified: bool = True) -> dict[str, object]:
    return {"sub": uuid.uuid4().hex, "email": email, "email_verified": verified, "name": "G User"}


async def test_a_new_google_user_gets_an_active_account(api: Api, oidc: OidcProvider) -> None:
    oidc.reset()
    email = new_email("google")
    identity = _google(email)
    callback, reply = await _flow(api, oidc, identity)
    assert reply.status == 200, reply.body
    # The token request carried the PKCE verifier the provider checked against the challenge.
    assert oidc.token_requests[-1]["code_verifier"]
    me = await api.call("GET", "/api/v1/me", token=reply.body["access_token"])
    assert me.body["email"] == email and me.body["status"] == "ACTIVE"
    assert me.body["member_id"].startswith("UCFSIN-") and me.body["has_password"] is False
    # The same callback again: its state was single use.
    replay = await api.call("GET", callback)
    assert (replay.status, replay.code) == (400, "oauth_state_mismatch")
    # Logging in again finds the linked account.
    _, again = await _flow(api, oidc, identity)
    assert again.status == 200
    assert await User.find({"email": email}).count() == 1


async def test_google_login_links_the_verified_account_with_that_email(
    api: Api, oidc: OidcProvider, member: Account
) -> None:
    oidc.reset()
    _, reply = await _flow(api, oidc, _google(member.email.upper()))
    assert reply.status == 200, reply.body
    me = await api.call("GET", "/api/v1/me", token=reply.body["access_token"])
    assert me.body["id"] == member.user_id and me.body["has_password"] is True
    user = await User.get(member.user_id)
    assert user is not None and [link.provider for link in user.oauth] == ["google"]


async def test_a_pending_signup_is_taken_over_without_its_unproven_password(
    api: Api, oidc: OidcProvider
) -> None:
    oidc.reset()
    email = new_email("prehijack")
    assert (await api.signup(email, "Attacker-chosen-1")).status == 202
    _, reply = await _flow(api, oidc, _google(email))
    assert reply.status == 200, reply.body
    login = await api.call(
        "POST", "/api/v1/auth/login", json={"email": email, "password": "Attacker-chosen-1"}
    )
    assert login.code == "invalid_credentials"


async def test_state_mismatch_bad_id_tokens_and_unverified_emails_are_refused(
    api: Api, oidc: OidcProvider
) -> None:
    oidc.reset()
    # A callback whose state the app never issued (CSRF / mix-up).
    callback, _ = await _flow(api, oidc, _google(new_email()))
    forged = callback.split("?")[0] + "?" + urlencode({"code": "x", "state": "forged-state"})
    reply = await api.call("GET", forged)
    assert (reply.status, reply.code) == (400, "oauth_state_mismatch")
    missing = await api.call("GET", callback.split("?")[0] + "?code=x")
    assert missing.code == "oauth_state_mismatch"

    for overrides, stranger, reason in [
        ({"nonce": "not-the-nonce"}, False, "id_token_nonce"),
        ({"aud": "another-client"}, False, "id_token_aud"),
        ({"iss": "https://evil.example"}, False, "id_token_iss"),
        ({"exp": 1_000_000}, False, "id_token_expired"),
        ({}, True, "id_token_signature"),
    ]:
        oidc.id_token_overrides, oidc.sign_with_stranger = overrides, stranger
        _, reply = await _flow(api, oidc, _google(new_email()))
        assert (reply.status, reply.code) == (401, "oauth_failed"), (overrides, reply.body)
        assert reply.body["error"]["details"]["reason"] == reason
    oidc.reset()

    email = new_email("unverified")
    _, reply = await _flow(api, oidc, _google(email, verified=False))
    assert (reply.status, reply.code) == (403, "oauth_email_unverified")
    assert await User.find({"email": email}).count() == 0
