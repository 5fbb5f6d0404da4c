"""Sign-up, e-mailed codes and member ids, over HTTP against the running app, with the mail
really going through the local SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from app.identity.documents import CodePurpose, EmailCode, User
from tests.identity.conftest import Api, new_email, new_password


async def test_signup_mails_a_code_and_verification_activates_with_a_member_id(api: Api) -> None:
    email, password = new_email(), new_password()
    reply = await api.signup(email.upper(), password, "Asha Rao")
    assert reply.status == 202, reply.body
    assert reply.body == {
        "status": "verification_sent",
        "email": email,
        "code_expires_in": 600,
    }
    [mail] = await api.outbox(email)
    assert mail["subject"] == "Your Samooh verification code"
    assert re.fullmatch(r"\d{6}", mail["code"]) and mail["code"] in mail["body"]
    assert "10 minutes" in mail["body"] and mail["to"] == [email]

    # PENDING: login is refused until the address is verified.
    pending = await api.call(
        "POST", "/api/v1/auth/login", json={"email": email, "password": password}
    )
    assert (pending.status, pending.code) == (403, "email_not_verified")

    reply = await api.call(
        "POST", "/api/v1/auth/verify-email", json={"email": email, "code": mail["code"]}
    )
    assert reply.status == 200, reply.body
    me = reply.body
    assert me["status"] == "ACTIVE" and me["email_verified"] is True
    assert re.fullmatch(rf"UCFSIN-{dt.datetime.now(dt.UTC).year}-\d{{6}}", me["member_id"])
    assert me["roles"] == ["user"] and me["kyc_status"] == "not_started"

    # The code is stored hashed, never as mailed.
    user = await User.find_one({"email": email})
    assert user is not None and user.password_hash and user.password_hash.startswith("$argon2id$")
    code = await EmailCode.find_one({"user_id": user.id})
    assert code is not None and code.consumed_at is not None
    assert mail["code"] not in code.code_hash and len(code.code_hash) == 64

    # Used once: the same code again is refused.
    again = await api.call(
        "POST", "/api/v1/auth/verify-email", json={"email": email, "code": mail["code"]}
    )
    assert (again.status, again.code) == (400, "invalid_code")


async def test_wrong_codes_count_and_the_sixth_try_is_refused_even_when_right(api: Api) -> None:
    email = new_email()
    await api.signup(email, new_password())
    right = await api.latest_code(email)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    lefts = []
    for _ in range(5):
        reply = await api.call(
            "POST", "/api/v1/auth/verify-email", json={"email": email, "code": wrong}
        )
        assert (reply.status, reply.code) == (400, "invalid_code"), reply.body
        lefts.append(reply.body["error"]["details"]["attempts_left"])
    assert lefts == [4, 3, 2, 1, 0]
    reply = await api.call(
        "POST", "/api/v1/auth/verify-email", json={"email": email, "code": right}
    )
    assert (reply.status, reply.code) == (400, "too_many_attempts")
    user = await User.find_one({"email": email})
    assert user is not None and user.status == "PENDING" and user.member_id is None


async def test_an_expired_code_is_refused(api: Api) -> None:
    email = new_email()
    await api.signup(email, new_password())
    code = await api.latest_code(email)
    user = await User.find_one({"email": email})
    assert user is not None
    # Ten minutes pass (the stored expiry moves into the past; nothing else changes).
    await EmailCode.get_pymongo_collection().update_one(
        {"user_id": user.id, "purpose": CodePurpose.VERIFY_EMAIL.value},
        {"$set": {"expires_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}},
    )
    reply = await api.call("POST", "/api/v1/auth/verify-email", json={"email": email, "code": code})
    assert (reply.status, reply.code) == (400, "code_expired")


async def test_resend_is_throttled_and_replaces_the_code(api: Api, other_api: Api) -> None:
    email = new_email()
    await api.signup(email, new_password())
    first = await api.latest_code(email)
    reply = await api.call("POST", "/api/v1/auth/verify-email/resend", json={"email": email})
    assert (reply.status, reply.code) == (429, "rate_limited")
    retry_after = int(reply.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert reply.body["error"]["details"]["retry_after"] == retry_after
    # The throttle is per address, not per client: another IP is refused too.
    reply = await other_api.call("POST", "/api/v1/auth/verify-email/resend", json={"email": email})
    assert reply.status == 429

    # A minute later (the window is emptied) a new code replaces the first one.
    from app.config import get_settings
    from app.ratelimit import rate_limiter

    await rate_limiter().clear("code_mail", get_settings().rate_limit_resend, "verify_email", email)
    reply = await api.call("POST", "/api/v1/auth/verify-email/resend", json={"email": email})
    assert reply.status == 202, reply.body
    mails = await api.outbox(email)
    assert len(mails) == 2
    second = mails[0]["code"]
    assert second != first  # a fresh code (equal by chance once in a million)
    old = await api.call("POST", "/api/v1/auth/verify-email", json={"email": email, "code": first})
    assert (old.status, old.code) == (400, "invalid_code"), old.body
    ok = await api.call("POST", "/api/v1/auth/verify-email", json={"email": email, "code": second})
    assert ok.status == 200, ok.body


async def test_weak_passwords_are_refused_with_reasons(api: Api) -> None:
    cases = {
        "short1!": ["too_short"],
        "password123": ["too_common"],
        "qwertyuiop": ["too_common"],
    }
    for password, reasons in cases.items():
        reply = await api.signup(new_email(), password)
        assert (reply.status, reply.code) == (422, "weak_password"), password
        assert reply.body["error"]["details"]["reasons"] == reasons
    email = new_email("priyanka")
    reply = await api.signup(email, f"{email.split('@')[0]}-secret")
    assert reply.body["error"]["details"]["reasons"] == ["contains_email"]
    assert await api.outbox(email) == []


async def test_signup_does_not_reveal_existing_accounts(api: Api, other_api: Api) -> None:
    account = await api.register()
    reply = await other_api.signup(account.email, new_password(), "Someone Else")
    fresh = await other_api.signup(new_email(), new_password(), "Someone Else")
    assert reply.status == fresh.status == 202
    assert set(reply.body) == set(fresh.body) and reply.body["status"] == "verification_sent"
    # The holder is told by mail instead; the account is unchanged.
    notice = (await api.outbox(account.email))[0]
    assert notice["subject"] == "You already have a Samooh account" and notice["code"] is None
    assert (await api.login(account)).status == 200


async def test_member_ids_have_no_gaps_or_duplicates_under_concurrent_verification(
    api: Api,
) -> None:
    accounts = [(new_email("concurrent"), new_password()) for _ in range(12)]
    for email, password in accounts:
        # Sign-ups come from several clients (the per-IP sign-up limit is 5 a minute).
        api.ip = f"2001:db8::c:{email[11:15]}"
        assert (await api.signup(email, password)).status == 202
    codes = [await api.latest_code(email) for email, _ in accounts]

    async def verify(email: str, code: str) -> str:
        reply = await api.call(
            "POST",
            "/api/v1/auth/verify-email",
            json={"email": email, "code": code},
            headers={"X-Forwarded-For": f"2001:db8::d:{email[11:15]}"},
        )
        assert reply.status == 200, reply.body
        return str(reply.body["member_id"])

    ids = await asyncio.gather(
        *(verify(email, code) for (email, _), code in zip(accounts, codes, strict=True))
    )
    numbers = sorted(int(member_id.rsplit("-", 1)[1]) for member_id in ids)
    assert len(set(ids)) == len(ids)
    assert numbers == list(range(numbers[0], numbers[0] + len(ids)))
