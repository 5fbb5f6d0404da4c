"""Request and response shapes of the SMS API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class PhoneIn(BaseModel):
    """``POST /api/v1/me/phone``: the mobile number to verify (any usual Indian form)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=5, max_length=32)


class PhoneCodeIn(BaseModel):
    """``POST /api/v1/me/phone/confirm``: the 6-digit code sent by SMS."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^\s*[0-9]{6}\s*$")


class PhoneOut(BaseModel):
    """My mobile number (E.164) and whether it is verified (``null`` when none)."""

    phone: str | None
    verified: bool
    verified_at: dt.datetime | None


class SmsOut(BaseModel):
    """A text message sent (or to be sent) to me: its template (DLT id) and text."""

    id: str
    template: str
    dlt_template_id: str
    text: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class SmsList(BaseModel):
    messages: list[SmsOut]
