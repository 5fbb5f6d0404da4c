"""Failures of the SMS domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, ServiceUnavailable


class InvalidPhone(AppError):
    """Not a valid Indian mobile number (422; ``details.phone``)."""

    status = 422
    code = "invalid_phone"


class PhoneCodeInvalid(AppError):
    """The code is wrong, expired, or was never sent (422); ``details.attempts_left``."""

    status = 422
    code = "phone_code_invalid"


class SmsUnavailable(ServiceUnavailable):
    """The SMS provider did not answer (503): the message is retried."""

    code = "sms_unavailable"


class SmsRejected(AppError):
    """The SMS provider refused the message (502; ``details.provider_message``)."""

    status = 502
    code = "sms_rejected"
