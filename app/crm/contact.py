"""Normalising contact details: e-mail addresses (syntax checked with ``email-validator``,
stored lower-case) and phone numbers (E.164 through ``phonenumbers``, Google's libphonenumber
port), so that equal contacts compare equal and exact duplicates hit the unique indexes."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.crm.errors import InvalidContact

_SPACES = re.compile(r"\s+")


def normalise_email(value: str) -> str:
    """``value`` checked and lower-cased (``" Asha@Example.COM "`` → ``asha@example.com``).

    Raises:
        InvalidContact: not an e-mail address (``details.field == "email"``).
    """
    try:
        checked = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidContact(f"{value.strip()!r} is not an e-mail address: {exc}",
                             details={"field": "email"}) from exc  # fmt: skip
    return checked.normalized.lower()


def normalise_phone(value: str, region: str) -> str:
    """``value`` in E.164 (``"098450 12345"`` with region ``IN`` → ``+919845012345``).

    Raises:
        InvalidContact: not a valid number for any region (``details.field == "phone"``).
    """
    try:
        parsed = phonenumbers.parse(value.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidContact(f"{value.strip()!r} is not a phone number",
                             details={"field": "phone"}) from exc  # fmt: skip
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidContact(f"{value.strip()!r} is not a valid phone number",
                             details={"field": "phone"})  # fmt: skip
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_name(value: str) -> str:
    """Spaces collapsed and trimmed; case kept (names are shown as given)."""
    return _SPACES.sub(" ", value).strip()


def masked_last4(last4: str) -> str:
    """``2345`` → ``••••••2345`` (lists show only the last four digits of a phone)."""
    return "••••••" + last4
