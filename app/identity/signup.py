"""Sign-up, e-mail verification and activation with a member id; accounts provisioned directly.

Enumeration (which addresses have accounts) is not revealed by sign-up or resend: they answer the
same for every address and mail the address instead ("you already have an account").
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.config import get_settings
from app.db import run_in_transaction
from app.identity import codes, errors, mailtexts, repository
from app.identity.documents import CodePurpose, EmailCode, PlatformRole, User, UserStatus, utcnow
from app.identity.passwords import check_password_policy, hash_password
from app.identity.schemas import CodeSent, SignupRequest, VerificationSent, normalise_email
from app.mail.sender import send_mail
from app.ratelimit import rate_limiter

MEMBER_ID_PREFIX = "UCFSIN"


def format_member_id(year: int, number: int) -> str:
    """``UCFSIN-<year>-<6-digit sequence>`` (docs/domain.md, chit funds: member id)."""
    return f"{MEMBER_ID_PREFIX}-{year}-{number:06d}"


async def activate(
    user: User, *, code: EmailCode | None, extra: dict[str, Any] | None = None
) -> User:
    """PENDING → ACTIVE with the next member id, in one transaction with consuming the code:
    a failed activation takes no number (no gaps), a number is never given twice.
    ``extra``: more fields to set in the same update. Raises ``InvalidCode``."""
    now = utcnow()
    sequence = f"member_id:{now.year}"
    await repository.ensure_sequence(sequence)
    assert user.id is not None
    user_id = user.id

    async def body(tx: AsyncClientSession) -> User:
        if code is not None:
            assert code.id is not None
            if not await repository.consume_code(code.id, session=tx):
                raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
        number = await repository.next_in_sequence(sequence, session=tx)
        updated = await repository.update_user(
            user_id,
            {
                "status": UserStatus.ACTIVE.value,
                "member_id": format_member_id(now.year, number),
                "email_verified_at": now,
                **(extra or {}),
            },
            guard={"status": UserStatus.PENDING.value},
            session=tx,
        )
        if updated is None:
            raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
        return updated

    return await run_in_transaction(body)


async def do_signup(request: SignupRequest, ip: str | None) -> VerificationSent:
    """Create a PENDING account and mail a 6-digit code.

    An address that already has an account gets the same answer; an ACTIVE one is mailed a
    notice instead of a code, a PENDING one takes the new details (the earlier sign-up was
    never proven) and a new code. Raises ``WeakPassword``, ``RateLimited``.
    """
    settings = get_settings()
    email = normalise_email(request.email)
    # The account's address first; the network only by a generous ceiling (one Wi-Fi, a club).
    await rate_limiter().check("signup", settings.rate_limit_signup, email)
    await rate_limiter().hit("signup_network", settings.rate_limit_signup_network, ip or "-")
    await rate_limiter().count("signup", settings.rate_limit_signup, email)
    check_password_policy(request.password, email=email, min_length=settings.password_min_length)
    password_hash = await hash_password(request.password)
    answer = VerificationSent(email=email, code_expires_in=settings.email_code_ttl_seconds)
    user = await repository.user_by_email(email)
    if user is None:
        try:
            user = await repository.insert_user(
                User(
                    email=email,
                    full_name=request.full_name,
                    phone=request.phone,
                    password_hash=password_hash,
                )
            )
        except DuplicateKeyError:
            user = await repository.user_by_email(email)
            if user is None:  # pragma: no cover - deleted in between
                return answer
    elif user.status is UserStatus.PENDING:
        assert user.id is not None
        user = (
            await repository.update_user(
                user.id,
                {
                    "full_name": request.full_name,
                    "phone": request.phone,
                    "password_hash": password_hash,
                },
                guard={"status": UserStatus.PENDING.value},
            )
            or user
        )
    else:
        # Its own mail budget (same rate as codes): a notice never delays a real code.
        if await rate_limiter().test("notice_mail", settings.rate_limit_resend, email):
            await rate_limiter().hit("notice_mail", settings.rate_limit_resend, email)
            subject, body = mailtexts.ACCOUNT_EXISTS
            await send_mail(settings, to=email, subject=subject, body=body)
        return answer
    if user.status is UserStatus.PENDING:
        await codes.mail_code(user, CodePurpose.VERIFY_EMAIL)
    return answer


async def do_resend_verification(email: str, ip: str | None) -> CodeSent:
    """Mail a new verification code to a PENDING account (same answer for any address).

    Raises ``RateLimited`` (429) when the address was mailed less than the throttle ago.
    """
    settings = get_settings()
    email = normalise_email(email)
    await rate_limiter().hit("verify", settings.rate_limit_verify, ip or "-")
    # Counted per address whether or not it has an account: no enumeration.
    await rate_limiter().hit(
        "code_mail", settings.rate_limit_resend, CodePurpose.VERIFY_EMAIL.value, email
    )
    user = await repository.user_by_email(email)
    if user is not None and user.status is UserStatus.PENDING:
        await codes.mail_code(user, CodePurpose.VERIFY_EMAIL, charge=False)
    return CodeSent(email=email, code_expires_in=settings.email_code_ttl_seconds)


async def do_verify_email(email: str, code: str, ip: str | None) -> User:
    """Check the code and activate the account with its member id.

    Raises ``InvalidCode``, ``CodeExpired``, ``TooManyAttempts``, ``RateLimited``.
    """
    settings = get_settings()
    await rate_limiter().hit("verify", settings.rate_limit_verify, ip or "-")
    user = await repository.user_by_email(normalise_email(email))
    if user is None or user.status is not UserStatus.PENDING:
        raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
    matched = await codes.check_code(user, CodePurpose.VERIFY_EMAIL, code)
    return await activate(user, code=matched)


async def do_provision_user(
    *,
    email: str,
    password: str | None,
    full_name: str,
    roles: list[PlatformRole] | None = None,
) -> User:
    """Create an ACTIVE, verified account directly (demo data, operator scripts, tests).

    Idempotent on the e-mail: an existing account is returned unchanged.
    """
    email = normalise_email(email)
    existing = await repository.user_by_email(email)
    if existing is not None:
        return existing
    user = User(
        email=email,
        full_name=full_name,
        password_hash=await hash_password(password) if password else None,
        roles=sorted(set(roles or []) | {PlatformRole.USER}, key=list(PlatformRole).index),
    )
    try:
        user = await repository.insert_user(user)
    except DuplicateKeyError:
        found = await repository.user_by_email(email)
        assert found is not None
        return found
    return await activate(user, code=None)
