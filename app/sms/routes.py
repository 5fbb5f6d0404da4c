"""SMS HTTP API under ``/api/v1/me``: my mobile number and its verification by a code sent
by SMS, and the text messages sent to me. Parse → service → schema."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_request, validate_response

from app.config import get_settings
from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.ratelimit import rate_limiter
from app.sms.documents import MobileNumber
from app.sms.schemas import PhoneCodeIn, PhoneIn, PhoneOut, SmsList, SmsOut
from app.sms.service import sms_service

blueprint = Blueprint("sms", __name__, url_prefix="/api/v1/me")


def _out(number: MobileNumber | None) -> PhoneOut:
    if number is None:
        return PhoneOut(phone=None, verified=False, verified_at=None)
    return PhoneOut(phone=number.e164, verified=number.verified_at is not None,
                    verified_at=number.verified_at)  # fmt: skip


@blueprint.get("/phone")
@tag(["sms"])
@require_auth
@validate_response(PhoneOut)
async def my_phone() -> PhoneOut:
    """My mobile number and whether it is verified."""
    return _out(await sms_service.number(current_principal().user_id))


@blueprint.post("/phone")
@tag(["sms"])
@require_auth
@validate_request(PhoneIn)
@validate_response(PhoneOut)
@document_errors(422, 429, 502, 503)
async def set_phone(data: PhoneIn) -> PhoneOut:
    """Send a 6-digit code by SMS to a new (or the same) Indian mobile number; it is verified
    once the code is confirmed. Errors: 422 ``invalid_phone``, 429, 502 ``sms_rejected``, 503
    ``sms_unavailable``."""
    user_id = current_principal().user_id
    await rate_limiter().hit("sms_code", get_settings().rate_limit_sms_code, user_id)
    return _out(await sms_service.do_start_verification(user_id, data.phone))


@blueprint.post("/phone/confirm")
@tag(["sms"])
@require_auth
@validate_request(PhoneCodeIn)
@validate_response(PhoneOut)
@document_errors(422)
async def confirm_phone(data: PhoneCodeIn) -> PhoneOut:
    """Confirm my number with the code sent to it. Errors: 422 ``phone_code_invalid``."""
    return _out(await sms_service.do_confirm(current_principal().user_id, data.code))


@blueprint.get("/sms")
@tag(["sms"])
@require_auth
@validate_response(SmsList)
async def my_messages() -> SmsList:
    """The latest text messages sent (or queued) to me, newest first."""
    found = await sms_service.messages_of(current_principal().user_id)
    return SmsList(messages=[SmsOut(
        id=str(m.id), template=m.template, dlt_template_id=m.dlt_template_id, text=m.text,
        status=m.status.value, created_at=m.created_at, sent_at=m.sent_at,
    ) for m in found])  # fmt: skip
