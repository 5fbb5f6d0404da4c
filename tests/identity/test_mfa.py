"""TOTP MFA: enrolment with QR code, login with the code, no replay, recovery codes used once,
and the step-up check in front of the admin's role change (audited)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pyotp

from app.audit.service import PLATFORM_CHAIN, audit_service
from app.identity.documents import SecurityEvent, User
from tests.identity.conftest import Account, Api


async def enrol(api: Api, account: Account) -> tuple[str, list[str], float]:
    """Enrol TOTP; return the secret, the recovery codes and the time whose code confirmed it."""
    token = (await api.tokens(account))["access_token"]
    reply = await api.call("POST", "/api/v1/me/mfa/totp/enrol", token=token)
    assert reply.status == 201, reply.body
    secret = reply.body["secret"]
    uri = urlsplit(reply.body["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query) == {"secret": [secret], "issuer": ["Samooh"]}
    png = await api.call("GET", reply.body["qr_png_url"], token=token)
    assert png.status == 200 and png.headers["Content-Type"] == "image/png"
    assert png.body[:8] == b"\x89PNG\r\n\x1a\n"
    wrong = await api.call(
        "POST", "/api/v1/me/mfa/totp/confirm", token=token, json={"code": "000000"}
    )
    assert wrong.code == "invalid_mfa_code"
    now = time.time()
    confirm = await api.call(
        "POST",
        "/api/v1/me/mfa/totp/confirm",
        token=token,
        json={"code": pyotp.TOTP(secret).at(int(now))},
    )
    assert confirm.status == 200, confirm.body
    codes = confirm.body["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    user = await User.find_one({"email": account.email})
    assert user is not None and user.mfa.secret and secret not in user.mfa.secret
    assert not set(codes) & set(user.mfa.recovery_code_hashes)
    return secret, codes, now


async def test_totp_login_refuses_replay_and_recovery_codes_work_once(
    api: Api, member: Account
) -> None:
    secret, codes, enrolled_at = await enrol(api, member)
    totp = pyotp.TOTP(secret)

    # The password alone is not enough any more; the answer carries an MFA hand-off.
    reply = await api.login(member)
    assert (reply.status, reply.code) == (401, "mfa_required")
    mfa_token = reply.body["error"]["details"]["mfa_token"]

    # The enrolment's code cannot log in again (replay), even if a step boundary passed since.
    replay = await api.login(member, otp=totp.at(int(enrolled_at)))
    assert (replay.status, replay.code) == (401, "invalid_mfa_code")
    assert replay.body["error"]["details"]["reason"] == "replayed"

    # Next step's code (within the ±1 step window) through the two-step hand-off.
    nxt = totp.at(int(enrolled_at) + 30)
    ok = await api.call("POST", "/api/v1/auth/mfa", json={"mfa_token": mfa_token, "otp": nxt})
    assert ok.status == 200, ok.body
    again = await api.login(member, otp=nxt)
    assert again.code == "invalid_mfa_code"
    used_once = await api.call(
        "POST", "/api/v1/auth/mfa", json={"mfa_token": mfa_token, "otp": nxt}
    )
    assert used_once.code == "invalid_mfa_code"

    # A recovery code (any case and spacing) logs in once.
    first = await api.login(member, otp=codes[0].upper().replace("-", " "))
    assert first.status == 200, first.body
    assert (await api.login(member, otp=codes[0])).code == "invalid_mfa_code"
    kinds = [e.kind for e in await SecurityEvent.find({"email": member.email}).to_list()]
    assert "mfa_enabled" in kinds and "recovery_code_used" in kinds
    assert kinds.count("mfa_failed") >= 3


async def test_role_change_needs_a_step_up_code_and_is_audited(
    api: Api, admin: Account, member: Account
) -> None:
    path = f"/api/v1/admin/users/{member.user_id}/roles"
    body = {"roles": ["foreman", "advisor"], "reason": "runs the Pune chit group"}

    # Not an admin: forbidden whatever the code.
    member_token = (await api.tokens(member))["access_token"]
    denied = await api.call("PUT", path, token=member_token, json=body)
    assert (denied.status, denied.code) == (403, "forbidden")

    # An admin without MFA must enrol first.
    plain = (await api.tokens(admin))["access_token"]
    reply = await api.call("PUT", path, token=plain, json=body)
    assert (reply.status, reply.code) == (403, "mfa_enrollment_required")

    secret, codes, enrolled_at = await enrol(api, admin)
    totp = pyotp.TOTP(secret)
    # Log in with a recovery code: the TOTP's last used step stays the enrolment's.
    token = await api.login(admin, otp=codes[0])
    assert token.status == 200, token.body
    access = token.body["access_token"]
    missing = await api.call("PUT", path, token=access, json=body)
    assert (missing.status, missing.code) == (403, "step_up_required")
    wrong = await api.call(
        "PUT", path, token=access, json=body, headers={"X-Step-Up-Code": "12345x"}
    )
    assert (wrong.status, wrong.code) == (403, "step_up_failed")

    before = (await audit_service.verify(PLATFORM_CHAIN)).checked
    # A fresh code (the next step, inside the one-step window) passes, once.
    fresh = totp.at(int(enrolled_at) + 30)
    ok = await api.call("PUT", path, token=access, json=body, headers={"X-Step-Up-Code": fresh})
    assert ok.status == 200, ok.body
    assert ok.body["roles"] == ["user", "foreman", "advisor"]
    spent = await api.call("PUT", path, token=access, json=body, headers={"X-Step-Up-Code": fresh})
    assert (spent.code, spent.body["error"]["details"]["reason"]) == ("step_up_failed", "replayed")

    audit = await api.call(
        "GET", "/api/v1/admin/audit", token=access, params={"target_id": member.user_id}
    )
    assert audit.status == 200, audit.body
    assert audit.body["chain_ok"] is True and audit.body["chain_checked"] == before + 1
    [record] = audit.body["items"]
    assert record["action"] == "user.roles.change" and record["actor_id"] == admin.user_id
    assert record["details"]["before"] == ["user"]
    assert record["details"]["after"] == ["user", "foreman", "advisor"]
    assert record["details"]["reason"] == "runs the Pune chit group"
    assert len(record["hash"]) == 64 and record["prev_hash"] != record["hash"]

    # The new roles apply at once (read from the account on every request).
    me = await api.call("GET", "/api/v1/me", token=member_token)
    assert me.body["roles"] == ["user", "foreman", "advisor"]
    # An admin cannot change their own roles (the step-up passes; the rule refuses).
    own = await api.call(
        "PUT", f"/api/v1/admin/users/{admin.user_id}/roles", token=access, json=body,
        headers={"X-Step-Up-Code": codes[1]},
    )  # fmt: skip
    assert (own.status, own.code) == (409, "cannot_change_own_account")
