"""Login, JWT sessions with rotating refresh tokens, logout, lockout, rate limits and password
reset — over HTTP against the running app."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from app.config import get_settings
from app.identity.documents import SecurityEvent
from app.identity.keys import signing_key
from app.identity.tokens import issue_token
from tests.identity.conftest import Account, Api, new_email, new_password, provision


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def test_login_returns_a_bearer_pair_that_opens_me(api: Api, member: Account) -> None:
    reply = await api.login(member)
    assert reply.status == 200, reply.body
    pair = reply.body
    assert set(pair) == {
        "access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in",
    }  # fmt: skip
    assert pair["token_type"] == "Bearer"
    assert (pair["expires_in"], pair["refresh_expires_in"]) == (900, 7 * 24 * 3600)
    assert reply.headers["Cache-Control"] == "no-store"
    header = json.loads(base64.urlsafe_b64decode(pair["access_token"].split(".")[0] + "=="))
    assert header["alg"] == "Ed25519" and header["kid"]
    claims = _claims(pair["access_token"])
    assert claims["iss"] == "samooh" and claims["aud"] == "samooh-api"
    assert claims["sub"] == member.user_id and claims["exp"] - claims["iat"] == 900
    assert claims["nbf"] == claims["iat"] and claims["jti"] and claims["amr"] == ["pwd"]

    me = await api.call("GET", "/api/v1/me", token=pair["access_token"])
    assert me.status == 200, me.body
    assert me.body["email"] == member.email and me.body["member_id"] == member.member_id

    patched = await api.call(
        "PATCH",
        "/api/v1/me",
        token=pair["access_token"],
        json={"full_name": "Asha R.", "phone": "+919812345678",
              "notification_preferences": {"sms": True}},
    )  # fmt: skip
    assert patched.status == 200, patched.body
    assert patched.body["full_name"] == "Asha R." and patched.body["phone"] == "+919812345678"
    assert patched.body["notification_preferences"] == {"email": True, "sms": True, "push": True}
    removed = await api.call(
        "PATCH", "/api/v1/me", token=pair["access_token"], json={"phone": None}
    )
    assert removed.body["phone"] is None and removed.body["full_name"] == "Asha R."


async def test_wrong_password_and_unknown_email_answer_alike(api: Api, member: Account) -> None:
    wrong = await api.call(
        "POST", "/api/v1/auth/login", json={"email": member.email, "password": "Wrong-pass-123"}
    )
    unknown = await api.call(
        "POST", "/api/v1/auth/login", json={"email": new_email(), "password": "Wrong-pass-123"}
    )
    assert wrong.status == unknown.status == 401
    assert wrong.body["error"]["code"] == unknown.body["error"]["code"] == "invalid_credentials"
    assert wrong.body["error"]["message"] == unknown.body["error"]["message"]


async def test_refresh_rotates_and_a_replayed_token_revokes_the_family(
    api: Api, member: Account
) -> None:
    first = await api.tokens(member)
    second = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert second.status == 200, second.body
    assert second.body["refresh_token"] != first["refresh_token"]
    assert _claims(second.body["access_token"])["fam"] == _claims(first["access_token"])["fam"]
    assert (await api.call("GET", "/api/v1/me", token=second.body["access_token"])).status == 200

    # The spent token presented again (a thief, or the victim after the thief): theft detected.
    replay = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert (replay.status, replay.code) == (401, "refresh_token_reused")
    # The whole family is gone: the newest refresh token and every access token of it.
    newest = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": second.body["refresh_token"]}
    )
    assert (newest.status, newest.code) == (401, "session_revoked")
    for token in (first["access_token"], second.body["access_token"]):
        me = await api.call("GET", "/api/v1/me", token=token)
        assert (me.status, me.code) == (401, "session_revoked")
    events = await SecurityEvent.find(
        {"kind": "refresh_token_reused", "email": member.email}
    ).to_list()
    assert len(events) == 1 and events[0].details["family"] == _claims(first["access_token"])["fam"]
    # Another session of the same account is untouched.
    other = await api.tokens(member)
    assert (await api.call("GET", "/api/v1/me", token=other["access_token"])).status == 200
    unknown = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": "x" * 40})
    assert (unknown.status, unknown.code) == (401, "refresh_token_invalid")


async def test_a_refresh_whose_answer_was_lost_is_answered_again_for_its_nonce(
    api: Api, member: Account
) -> None:
    """A page reloaded while its refresh was in flight parks the token it was spending and the
    refresh's ``client_nonce``; the next page sends both again and gets the same new token, not
    a revoked session. Anything else — another nonce, or the new token already spent — is
    still a reuse that ends the session."""
    first = await api.tokens(member)

    async def refresh(token: str, nonce: str | None = None) -> Any:
        body = {"refresh_token": token} | ({"client_nonce": nonce} if nonce else {})
        return await api.call("POST", "/api/v1/auth/refresh", json=body)

    nonce = "reload-" + "a1" * 12
    lost = await refresh(first["refresh_token"], nonce)
    assert lost.status == 200, lost.body
    again = await refresh(first["refresh_token"], nonce)  # the answer never reached the page
    assert again.status == 200, again.body
    assert again.body["refresh_token"] == lost.body["refresh_token"]  # the same successor
    assert (await api.call("GET", "/api/v1/me", token=again.body["access_token"])).status == 200
    # The page goes on: the successor rotates; now the same token and nonce are a reuse.
    onward = await refresh(again.body["refresh_token"], "onward-" + "b2" * 12)
    assert onward.status == 200, onward.body
    late = await refresh(first["refresh_token"], nonce)
    assert (late.status, late.code) == (401, "refresh_token_reused")
    gone = await api.call("GET", "/api/v1/me", token=onward.body["access_token"])
    assert (gone.status, gone.code) == (401, "session_revoked")

    # Another nonce for a spent token is a reuse at once, the successor unused or not.
    second = await api.tokens(member)
    taken = await refresh(second["refresh_token"], "thief-" + "c3" * 12)
    assert taken.status == 200
    other = await refresh(second["refresh_token"], "other-" + "d4" * 12)
    assert (other.status, other.code) == (401, "refresh_token_reused")
    bare = await refresh(taken.body["refresh_token"])
    assert (bare.status, bare.code) == (401, "session_revoked")
    # A malformed nonce is a validation error, and the token is not spent by it.
    third = await api.tokens(member)
    bad = await refresh(third["refresh_token"], "not a nonce!")
    assert (bad.status, bad.code) == (422, "validation_error"), bad.body
    assert (await refresh(third["refresh_token"])).status == 200


async def test_the_nonce_retry_ends_with_its_grace(services: object) -> None:
    """Past the grace the same token and nonce are a reuse (the store, with a one-second grace)."""
    import asyncio
    import secrets

    from app.extensions import services as running
    from app.identity.keys import refresh_successor
    from app.identity.repository import SessionStore

    settings, store = get_settings(), SessionStore(running.require_redis())
    token, nonce = secrets.token_urlsafe(48), "grace-" + "e5" * 12
    family = secrets.token_hex(8)
    await store.create("u-grace", family, token, 3600, ["pwd"])
    successor = refresh_successor(settings, token, nonce)
    first = await store.rotate(token, successor, 3600, nonce=nonce, grace_seconds=1)
    again = await store.rotate(token, successor, 3600, nonce=nonce, grace_seconds=1)
    assert (first.outcome, again.outcome) == ("ok", "retried")
    await asyncio.sleep(1.2)
    late = await store.rotate(token, successor, 3600, nonce=nonce, grace_seconds=1)
    assert late.outcome == "reused"
    assert await store.owner(family) is None  # revoked


async def test_logout_ends_the_session_at_once(api: Api, member: Account) -> None:
    mine, other = await api.tokens(member), await api.tokens(member)
    reply = await api.call("POST", "/api/v1/auth/logout", token=mine["access_token"], json={})
    assert reply.status == 200 and reply.body == {"revoked_sessions": 1}
    me = await api.call("GET", "/api/v1/me", token=mine["access_token"])
    assert (me.status, me.code) == (401, "session_revoked")
    refresh = await api.call(
        "POST", "/api/v1/auth/refresh", json={"refresh_token": mine["refresh_token"]}
    )
    assert refresh.code == "session_revoked"
    assert (await api.call("GET", "/api/v1/me", token=other["access_token"])).status == 200
    everything = await api.call(
        "POST", "/api/v1/auth/logout", token=other["access_token"], json={"all_sessions": True}
    )
    assert everything.body == {"revoked_sessions": 1}
    assert (await api.call("GET", "/api/v1/me", token=other["access_token"])).status == 401


def _forge(kind: str, valid: str) -> str:
    settings = get_settings()
    claims = _claims(valid)
    header, payload, signature = valid.split(".")
    now = int(time.time())
    if kind == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    if kind == "hs256_with_public_key":  # the classic algorithm-confusion attack
        public = signing_key(settings).as_pem(private=False)
        signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{payload}"
        mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    if kind == "wrong_key":
        return jwt.encode({"alg": "Ed25519"}, claims, OKPKey.generate_key("Ed25519"), ["Ed25519"])
    if kind == "tampered":
        return f"{header}.{_b64({**claims, 'roles': ['user', 'admin']})}.{signature}"
    if kind == "malformed":
        return "not.a-jwt"
    key, algs = signing_key(settings), ["Ed25519"]
    if kind == "expired":
        return issue_token(
            settings, subject=claims["sub"], token_type="access", roles=claims["roles"],
            family=claims["fam"], now=now - 3600, ttl_seconds=900,
        )  # fmt: skip
    if kind == "not_yet_valid":
        return issue_token(
            settings, subject=claims["sub"], token_type="access", roles=claims["roles"],
            family=claims["fam"], now=now + 3600,
        )  # fmt: skip
    if kind == "wrong_audience":
        return jwt.encode({"alg": "Ed25519"}, {**claims, "aud": "another-api"}, key, algs)
    if kind == "wrong_issuer":
        return jwt.encode({"alg": "Ed25519"}, {**claims, "iss": "evil"}, key, algs)
    if kind == "missing_jti":
        return jwt.encode(
            {"alg": "Ed25519"}, {k: v for k, v in claims.items() if k != "jti"}, key, algs
        )
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("alg_none", "token_algorithm_not_allowed"),
        ("hs256_with_public_key", "token_algorithm_not_allowed"),
        ("wrong_key", "token_signature_invalid"),
        ("tampered", "token_signature_invalid"),
        ("expired", "token_expired"),
        ("not_yet_valid", "token_not_yet_valid"),
        ("wrong_audience", "token_audience_invalid"),
        ("wrong_issuer", "token_issuer_invalid"),
        ("missing_jti", "token_claims_invalid"),
        ("malformed", "token_malformed"),
    ],
)
async def test_each_kind_of_bad_jwt_is_a_401_with_its_code(
    api: Api, member: Account, kind: str, code: str
) -> None:
    valid = (await api.tokens(member))["access_token"]
    reply = await api.call("GET", "/api/v1/me", token=_forge(kind, valid))
    assert (reply.status, reply.code) == (401, code), reply.body
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await api.call("GET", "/api/v1/me", token=valid)).status == 200


async def test_a_token_naming_another_user_than_its_sessions_owner_is_refused(
    api: Api, member: Account
) -> None:
    # Signed by the server and inside a live session, but its subject is another account
    # than the one the session was opened for: the session binds them.
    victim = await provision(tag="victim")
    own = await api.tokens(member)
    claims = _claims(own["access_token"])
    crossed = issue_token(
        get_settings(), subject=victim.user_id, token_type="access", roles=claims["roles"],
        family=claims["fam"], amr=claims["amr"],
    )  # fmt: skip
    for method, path in (("GET", "/api/v1/me"), ("POST", "/api/v1/auth/logout")):
        reply = await api.call(method, path, token=crossed, json={} if method == "POST" else None)
        assert (reply.status, reply.code) == (401, "token_claims_invalid"), reply.body
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    # Nothing changed: the member's session and the victim's account are as they were.
    me = await api.call("GET", "/api/v1/me", token=own["access_token"])
    assert me.status == 200 and me.body["id"] == member.user_id
    victims = await api.tokens(victim)
    assert (await api.call("GET", "/api/v1/me", token=victims["access_token"])).status == 200


async def test_no_token_and_guest_tokens_do_not_open_account_endpoints(api: Api) -> None:
    none = await api.call("GET", "/api/v1/me")
    assert (none.status, none.code) == (401, "authentication_required")
    guest = await api.call("POST", "/api/v1/auth/guest")
    assert guest.status == 200 and guest.body["token_type"] == "Bearer"
    assert _claims(guest.body["access_token"])["typ"] == "guest"
    reply = await api.call("GET", "/api/v1/me", token=guest.body["access_token"])
    assert (reply.status, reply.code) == (401, "account_required")


async def test_five_failed_logins_lock_the_address_with_retry_after(
    api: Api, other_api: Api, member: Account
) -> None:
    for _ in range(5):
        reply = await api.call(
            "POST", "/api/v1/auth/login", json={"email": member.email, "password": "Nope-nope-1"}
        )
        assert reply.code == "invalid_credentials"
    # Locked for the address, from any client, even with the right password.
    locked = await other_api.login(member)
    assert (locked.status, locked.code) == (429, "account_locked")
    assert 55 <= int(locked.headers["Retry-After"]) <= 60
    events = await SecurityEvent.find({"email": member.email}).to_list()
    kinds = [event.kind for event in events]
    assert kinds.count("login_failed") == 5 and kinds.count("login_locked") == 1


async def test_rate_limits_answer_429_with_retry_after(api: Api) -> None:
    async def exhaust(path: str, body: Any, allowed: int, fresh_body: bool = False) -> None:
        for i in range(allowed):
            payload = body() if fresh_body else body
            reply = await api.call("POST", path, json=payload)
            assert reply.status != 429, (path, i, reply.body)
        reply = await api.call("POST", path, json=body() if fresh_body else body)
        assert (reply.status, reply.code) == (429, "rate_limited"), (path, reply.body)
        assert int(reply.headers["Retry-After"]) >= 1

    def signup() -> dict[str, str]:
        return {"email": new_email(), "password": "short", "full_name": "Rate Limited"}

    def login() -> dict[str, str]:
        return {"email": new_email(), "password": "Whatever-123"}

    def forgot() -> dict[str, str]:
        return {"email": new_email()}

    def verify() -> dict[str, str]:
        return {"email": new_email(), "code": "123456"}

    # Sign-up: 5 a minute per e-mail address; a network (a club on one Wi-Fi) gets 60.
    await exhaust("/api/v1/auth/signup", signup(), 5)
    await exhaust("/api/v1/auth/signup", signup, 55, fresh_body=True)
    await exhaust("/api/v1/auth/verify-email", verify, 10, fresh_body=True)
    await exhaust("/api/v1/auth/password/forgot", forgot, 5, fresh_body=True)
    await exhaust("/api/v1/auth/login", login, 30, fresh_body=True)


async def test_password_reset_by_mailed_code_revokes_every_session(
    api: Api, other_api: Api
) -> None:
    account = await api.register()
    laptop, phone = await api.tokens(account), await other_api.tokens(account)
    unknown = new_email()
    for email in (account.email, unknown):
        reply = await api.call("POST", "/api/v1/auth/password/forgot", json={"email": email})
        assert reply.status == 202 and reply.body["status"] == "code_sent"
    assert await api.outbox(unknown) == []
    code = await api.latest_code(account.email, "reset")

    weak = await api.call(
        "POST", "/api/v1/auth/password/reset",
        json={"email": account.email, "code": code, "new_password": "password1"},
    )  # fmt: skip
    assert weak.code == "weak_password"
    new = new_password()
    reply = await api.call(
        "POST", "/api/v1/auth/password/reset",
        json={"email": account.email, "code": code, "new_password": new},
    )  # fmt: skip
    assert reply.status == 200 and reply.body == {"status": "password_reset"}
    for pair in (laptop, phone):
        me = await api.call("GET", "/api/v1/me", token=pair["access_token"])
        assert (me.status, me.code) == (401, "session_revoked")
        refresh = await api.call(
            "POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert refresh.status == 401
    assert (await api.login(account)).code == "invalid_credentials"
    account.password = new
    assert (await api.login(account)).status == 200
    again = await api.call(
        "POST", "/api/v1/auth/password/reset",
        json={"email": account.email, "code": code, "new_password": new_password()},
    )  # fmt: skip
    assert again.code == "invalid_code"
    assert (await api.outbox(account.email))[0]["subject"] == "Your Samooh password was changed"
    kinds = {e.kind for e in await SecurityEvent.find({"email": account.email}).to_list()}
    assert {"password_reset_requested", "password_reset"} <= kinds
