"""SMS through the sandbox provider (MSG91's flow API shape, devtools/sms_sandbox): mobile
numbers normalised to E.164 with phonenumbers and verified by a code sent by SMS; chit
reminders and auction results go by SMS, through DLT-registered templates, to subscribers
with a verified number only, each once; an outage is retried, a refusal is FAILED."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from app.chits.service import chit_service
from app.sms.documents import SmsMessage, SmsStatus
from app.sms.errors import InvalidPhone, PhoneCodeInvalid
from app.sms.service import SmsDraft, sms_service, to_e164
from app.sms.templates import AUCTION_REMINDER, AUCTION_RESULT, PAYMENT_DUE, PHONE_OTP
from tests.chits.factories import active_scheme, pay, person
from tests.chits.sms import SmsSandbox
from tests.rooms.conftest import http
from tests.rooms.conftest import person as http_person

__all__ = ["http"]

pytestmark = pytest.mark.usefixtures("sandbox")

R = 100


def new_mobile() -> str:
    """A random valid Indian mobile number in E.164."""
    return f"+9198{random.randrange(10**8):08d}"


async def verify(sms_sandbox: SmsSandbox, user_id: str, raw: str) -> str:
    """Verify ``raw`` for ``user_id`` with the code the sandbox received; the E.164 form."""
    number = await sms_service.do_start_verification(user_id, raw)
    sent = await sms_sandbox.wait_for(number.e164.lstrip("+"), 1)
    code = sent[-1]["variables"]["VAR1"]
    await sms_service.do_confirm(user_id, code)
    return number.e164


async def drain(now: dt.datetime) -> None:
    """Send what is due (the live worker's timer may be doing it too)."""
    await sms_service.do_send_due(now)


def test_indian_mobile_numbers_are_normalised_to_e164() -> None:
    for raw in ("98765 43210", "+91 98765-43210", "09876543210", "919876543210"):
        assert to_e164(raw) == "+919876543210"
    for bad in ("12345", "+1 202 555 0143", "011 2345 6789", "not a number", "+91 12345 67890"):
        with pytest.raises(InvalidPhone):
            to_e164(bad)


async def test_a_number_is_verified_by_a_code_sent_by_sms(sms_sandbox: SmsSandbox) -> None:
    who = await person()
    mobile = new_mobile()
    number = await sms_service.do_start_verification(who.user_id, mobile[3:])  # without +91
    assert number.e164 == mobile and number.verified_at is None
    sent = await sms_sandbox.wait_for(mobile.lstrip("+"), 1)
    assert sent[0]["template_id"] == PHONE_OTP.template_id
    assert sent[0]["dlt_template_id"] == PHONE_OTP.dlt_template_id and sent[0]["sender"] == "SAMOOH"
    code = sent[0]["variables"]["VAR1"]
    assert code in sent[0]["text"] and len(code) == 6
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(PhoneCodeInvalid) as refused:
        await sms_service.do_confirm(who.user_id, wrong)
    assert refused.value.details["attempts_left"] == 4
    assert (await sms_service.number(who.user_id)).verified_at is None  # type: ignore[union-attr]
    verified = await sms_service.do_confirm(who.user_id, code)
    assert verified.verified_at is not None
    with pytest.raises(PhoneCodeInvalid):  # a code works once
        await sms_service.do_confirm(who.user_id, code)
    assert await sms_service.verified_numbers([who.user_id]) == {who.user_id: mobile}


async def test_reminders_and_results_go_by_sms_to_verified_numbers_once(
    sms_sandbox: SmsSandbox,
) -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    # tickets 2 and 3 verify their numbers; the others have none
    mobiles = {2: await verify(sms_sandbox, people[1].user_id, new_mobile()),
               3: await verify(sms_sandbox, people[2].user_id, new_mobile())}  # fmt: skip
    opens = dt.datetime(2031, 1, 10, 10, 0, tzinfo=dt.UTC)
    await pay(subs[2], people[2], opens - dt.timedelta(days=2))  # ticket 3 is paid up
    now = opens - dt.timedelta(hours=12)
    await chit_service.do_send_reminders(now)
    await chit_service.do_send_reminders(now)  # the same day again: nothing twice
    await drain(now)
    # month 1 is the foreman's (no auction reminder): ticket 2 owes, ticket 3 has paid
    two = await sms_sandbox.wait_for(mobiles[2].lstrip("+"), 2)
    assert [m["template_id"] for m in two[1:]] == [PAYMENT_DUE.template_id]
    due = two[1]
    assert due["dlt_template_id"] == PAYMENT_DUE.dlt_template_id and due["sender"] == "SAMOOH"
    assert "Rs 10000.00 is due" in due["text"] and scheme.name[:30] in due["text"]
    assert "month 1" in due["text"]
    assert len(await sms_sandbox.messages(mobiles[3].lstrip("+"))) == 1  # its code only
    stored = await SmsMessage.find({"user_id": {"$in": [people[1].user_id, people[3].user_id]},
                                    "template": {"$ne": PHONE_OTP.key}}).to_list()  # fmt: skip
    assert [m.template for m in stored if m.user_id == people[1].user_id] == [PAYMENT_DUE.key]
    assert not [m for m in stored if m.user_id == people[3].user_id]  # no verified number

    # the foreman's month closes: the result goes by SMS with each ticket's own figures
    for sub, who in zip(subs, people, strict=True):
        if sub.ticket != 3:
            await pay(sub, who, opens - dt.timedelta(days=1))
    current = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert current is not None
    await chit_service.do_close_auction(str(current.id), opens + dt.timedelta(minutes=16))
    await drain(opens + dt.timedelta(minutes=16))
    result = await sms_sandbox.wait_for(mobiles[3].lstrip("+"), 2)
    assert result[-1]["template_id"] == AUCTION_RESULT.template_id
    assert result[-1]["text"].startswith("Samooh: ticket 1 took month 1 of chit")
    assert "next instalment Rs 10000.00" in result[-1]["text"]

    # the day before month 2's auction: the auction reminder (and what is due) to both
    eve = opens + dt.timedelta(days=31) - dt.timedelta(hours=12)
    await chit_service.do_send_reminders(eve)
    await drain(eve)
    for ticket, count in ((2, 5), (3, 4)):
        got = await sms_sandbox.wait_for(mobiles[ticket].lstrip("+"), count)
        kinds = [m["template_id"] for m in got]
        assert kinds.count(AUCTION_REMINDER.template_id) == 1, kinds
        reminder = next(m for m in got if m["template_id"] == AUCTION_REMINDER.template_id)
        assert reminder["text"].startswith("Samooh: month 2 auction of your chit")
    _ = boss


async def test_an_outage_is_retried_and_a_refusal_fails(sms_sandbox: SmsSandbox) -> None:
    who = await person()
    mobile = await verify(sms_sandbox, who.user_id, new_mobile())
    now = dt.datetime.now(dt.UTC)
    await sms_sandbox.control(fail_next=1)
    draft = SmsDraft(
        user_id=who.user_id,
        template=PAYMENT_DUE.key,
        variables={"VAR1": "100.00", "VAR2": "Test chit", "VAR3": "2", "VAR4": "2031-02-10"},
        dedupe_key=f"t-outage:{who.user_id}",
    )
    assert await sms_service.do_queue([draft], now) == 1
    assert await sms_service.do_queue([draft], now) == 0  # once per dedupe key
    await drain(now)
    later = now + dt.timedelta(seconds=60)
    for _ in range(20):
        message = await SmsMessage.find_one({"dedupe_key": f"t-outage:{who.user_id}"})
        assert message is not None
        if message.status == SmsStatus.SENT:
            break
        await drain(later)
    assert message.status == SmsStatus.SENT and message.attempts == 2
    assert message.provider == "sandbox" and message.provider_ref
    received = await sms_sandbox.messages(mobile.lstrip("+"))
    assert [m["text"] for m in received].count(message.text) == 1

    await sms_sandbox.control(reject_next=1)
    refused = SmsDraft(user_id=who.user_id, template=PAYMENT_DUE.key, variables=draft.variables,
                       dedupe_key=f"t-refused:{who.user_id}")  # fmt: skip
    await sms_service.do_queue([refused], later)
    for _ in range(20):
        failed = await SmsMessage.find_one({"dedupe_key": f"t-refused:{who.user_id}"})
        assert failed is not None
        if failed.status != SmsStatus.PENDING:
            break
        await drain(later)
    assert failed.status == SmsStatus.FAILED and "DLT" in (failed.last_error or "")


async def test_my_phone_over_http(http, sms_sandbox: SmsSandbox) -> None:  # type: ignore[no-untyped-def]
    me = await http_person("phone")
    bad = await http.call("POST", "/api/v1/me/phone", json={"phone": "+1 202 555 0143"},
                          token=me.token)  # fmt: skip
    assert bad.status == 422 and bad.body["error"]["code"] == "invalid_phone"
    mobile = new_mobile()
    started = await http.call("POST", "/api/v1/me/phone", json={"phone": mobile}, token=me.token)
    assert started.status == 200, started.body
    assert started.body == {"phone": mobile, "verified": False, "verified_at": None}
    code = (await sms_sandbox.wait_for(mobile.lstrip("+"), 1))[-1]["variables"]["VAR1"]
    wrong = await http.call("POST", "/api/v1/me/phone/confirm", json={"code": "00000a"},
                            token=me.token)  # fmt: skip
    assert wrong.status == 422
    done = await http.call("POST", "/api/v1/me/phone/confirm", json={"code": code},
                           token=me.token)  # fmt: skip
    assert done.status == 200 and done.body["verified"] is True
    mine = await http.call("GET", "/api/v1/me/phone", token=me.token)
    assert mine.body["phone"] == mobile and mine.body["verified"] is True
