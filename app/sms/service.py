"""SMS: verifying a person's Indian mobile number with a code sent to it, and the outbox of
text messages to verified numbers (queued once per ``dedupe_key``, sent by the SMS adapter —
the sandbox by default, MSG91 in production — and retried with backoff while the provider is
away; a refused message is FAILED at once).

Numbers are parsed and normalised with ``phonenumbers`` (Google's libphonenumber) to E.164;
only Indian mobile numbers are accepted, since the messages go through Indian DLT templates.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import phonenumbers

from app.config import get_settings
from app.logging import get_logger
from app.realtime.eventlog import utcnow
from app.sms import repository
from app.sms.documents import MobileNumber, SmsMessage, SmsStatus
from app.sms.errors import InvalidPhone, PhoneCodeInvalid, SmsRejected, SmsUnavailable
from app.sms.provider import sms_provider
from app.sms.templates import PHONE_OTP, TEMPLATES, clip, render

log = get_logger(__name__)

CODE_TTL = dt.timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
LEASE = dt.timedelta(seconds=60)
BACKOFF_SECONDS = (5, 30, 120, 600, 1800)
MAX_ATTEMPTS = 6


def to_e164(raw: str) -> str:
    """``raw`` (``98765 43210``, ``+91-98765-43210``, ``09876543210``) as E.164 ``+91…``.

    Raises InvalidPhone (422) unless it is a valid Indian mobile number."""
    try:
        number = phonenumbers.parse(raw, "IN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number", details={"phone": raw[:40]}) from exc
    kind = phonenumbers.number_type(number)
    if (
        number.country_code != 91
        or not phonenumbers.is_valid_number(number)
        or kind not in (phonenumbers.PhoneNumberType.MOBILE,
                        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):  # fmt: skip
        raise InvalidPhone("not an Indian mobile number", details={"phone": raw[:40]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _hash(user_id: str, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SmsDraft:
    """A message to queue: to whom, which template (key), its variables, its dedupe key."""

    user_id: str
    template: str
    variables: dict[str, str]
    dedupe_key: str


class SmsService:
    """Mobile numbers and text messages."""

    async def number(self, user_id: str) -> MobileNumber | None:
        """``user_id``'s mobile number (verified or not), or ``None``."""
        return await repository.number_of(user_id)

    async def verified_numbers(self, user_ids: list[str]) -> dict[str, str]:
        """user id → verified E.164 number, for those of ``user_ids`` that have one."""
        return await repository.verified_numbers(sorted(set(user_ids)))

    async def do_start_verification(
        self, user_id: str, raw_phone: str, now: dt.datetime | None = None
    ) -> MobileNumber:
        """Send a 6-digit code to ``raw_phone`` (valid 10 minutes) by SMS, at once.

        Raises InvalidPhone (422), SmsUnavailable (503) or SmsRejected (502)."""
        now = now or utcnow()
        e164 = to_e164(raw_phone)
        code = f"{secrets.randbelow(1_000_000):06d}"
        # sent first: a provider that refuses or is away leaves nothing changed
        await sms_provider(get_settings()).send(PHONE_OTP, e164, {"VAR1": code})
        await repository.set_code(user_id, e164, _hash(user_id, code), now + CODE_TTL, now)
        number = await repository.number_of(user_id)
        assert number is not None
        return number

    async def do_confirm(
        self, user_id: str, code: str, now: dt.datetime | None = None
    ) -> MobileNumber:
        """Verify the number with the code sent to it (at most 5 tries per code).

        Raises PhoneCodeInvalid (422): wrong, expired, used up, or none was sent."""
        now = now or utcnow()
        number = await repository.count_attempt(user_id)
        if number is None or number.code_hash is None or number.code_expires_at is None:
            raise PhoneCodeInvalid("no code was sent", details={"attempts_left": 0})
        expires = number.code_expires_at.replace(tzinfo=dt.UTC) if (
            number.code_expires_at.tzinfo is None) else number.code_expires_at  # fmt: skip
        left = max(0, MAX_CODE_ATTEMPTS - number.attempts)
        right = hmac.compare_digest(number.code_hash, _hash(user_id, code.strip()))
        if number.attempts > MAX_CODE_ATTEMPTS or expires < now or not right:
            raise PhoneCodeInvalid("wrong or expired code", details={"attempts_left": left})
        if not await repository.mark_verified(user_id, number.code_hash, now):
            raise PhoneCodeInvalid("wrong or expired code", details={"attempts_left": left})
        verified = await repository.number_of(user_id)
        assert verified is not None
        return verified

    async def do_queue(self, drafts: list[SmsDraft], now: dt.datetime | None = None) -> int:
        """Queue messages to the verified numbers of their people (others are skipped); a
        draft whose ``dedupe_key`` was queued before is skipped. Returns how many were
        queued. Call it after the change commits (``events.after_commit``)."""
        if not drafts:
            return 0
        now = now or utcnow()
        numbers = await repository.verified_numbers(sorted({d.user_id for d in drafts}))
        messages = []
        for draft in drafts:
            e164 = numbers.get(draft.user_id)
            template = TEMPLATES[draft.template]
            if e164 is None:
                continue
            variables = {k: clip(v) for k, v in draft.variables.items()}
            messages.append(SmsMessage(
                user_id=draft.user_id, e164=e164, template=template.key,
                dlt_template_id=template.dlt_template_id, variables=variables,
                text=render(template, variables), dedupe_key=draft.dedupe_key,
                next_attempt_at=now,
            ))  # fmt: skip
        return len(await repository.queue(messages))

    async def do_send_due(self, now: dt.datetime | None = None, limit: int = 50) -> int:
        """Send the queued messages whose time has come (the SMS timer); returns how many
        were sent. Safe on every worker: each message is claimed with a lease."""
        now = now or utcnow()
        sent = 0
        adapter = sms_provider(get_settings())
        for _ in range(limit):
            message = await repository.claim_due(now, LEASE)
            if message is None:
                break
            template = TEMPLATES[message.template]
            tries = message.attempts + 1
            try:
                said = await adapter.send(template, message.e164, message.variables)
            except SmsRejected as exc:
                await repository.finish(message.id, {"status": SmsStatus.FAILED.value,
                                                     "attempts": tries,
                                                     "last_error": exc.message[:300]})  # fmt: skip
                continue
            except SmsUnavailable as exc:
                wait = BACKOFF_SECONDS[min(tries, len(BACKOFF_SECONDS)) - 1]
                give_up = tries >= MAX_ATTEMPTS
                await repository.finish(message.id, {
                    "status": (SmsStatus.FAILED if give_up else SmsStatus.PENDING).value,
                    "attempts": tries, "last_error": exc.message[:300],
                    "next_attempt_at": now + dt.timedelta(seconds=wait),
                })  # fmt: skip
                continue
            if await repository.finish(message.id, {
                "status": SmsStatus.SENT.value, "attempts": tries, "provider": said.provider,
                "provider_ref": said.request_id, "sent_at": now, "last_error": None,
            }):  # fmt: skip
                sent += 1
        return sent

    async def do_forget(self, user_id: str) -> int:
        """Erasure of an account: its mobile number is removed and its messages keep their
        template, status and times but no number or text (one still waiting is never sent).
        Returns how many messages changed."""
        return await repository.forget(user_id)

    async def messages_of(self, user_id: str) -> list[SmsMessage]:
        """``user_id``'s latest text messages, newest first."""
        return await repository.messages_of(user_id)


sms_service = SmsService()
"""The one instance of ``SmsService``."""
