"""The daily expiry sweep: one alert per document and threshold (the nearest at or above the
days left), stored before it is mailed and sent — ``kyc:expiry`` reaches the holder's real
socket on the live server; a re-run sends nothing twice; an expired document stops counting
and the holder's status follows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.config import get_settings
from app.identity.documents import KycStatus
from app.identity.repository import user_by_id
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument, KycExpiryAlert
from app.kyc.service import kyc_service
from app.mail.outbox import read_outbox
from tests.conftest import LiveStack
from tests.rooms.conftest import RoomClient, person

pytestmark = pytest.mark.usefixtures("services")


async def verified(user_id: str, kind: DocumentKind, expires_on: dt.date | None) -> KycDocument:
    doc = KycDocument(user_id=user_id, kind=kind, status=DocumentStatus.VERIFIED,
                      file_id="f", number_last4="1234",
                      expires_on=expires_on.isoformat() if expires_on else None)  # fmt: skip
    await doc.insert()
    return doc


async def test_expiry_alerts_are_sent_once_ahead_of_expiry(live_stack: LiveStack) -> None:
    today = dt.datetime.now(dt.UTC).date()
    holder = await person("holder")
    uid = holder.user_id
    socket = await RoomClient(live_stack.url, holder).connect()
    try:
        await verified(uid, DocumentKind.PAN, None)
        licence = await verified(uid, DocumentKind.DRIVING_LICENCE, today + dt.timedelta(days=5))

        first = await kyc_service.do_expiry_sweep(today)
        mine = [a for a in first.alerts if a.user_id == uid]
        assert [(a.document_id, a.days_before) for a in mine] == [(str(licence.id), 7)]
        assert first.mailed >= 1
        await socket.wait_for(lambda c: len(c.of("kyc:expiry")) == 1)
        [event] = socket.of("kyc:expiry")
        assert (event["days_left"], event["kind"], event["document_id"]) == (
            5, "driving_licence", str(licence.id))  # fmt: skip
        # logged in the holder's own log: its id is ``person:<id>:<seq>``
        assert event["id"] == f"person:{uid}:{event['seq']}" and event["expires_on"]

        again = await kyc_service.do_expiry_sweep(today)  # a re-run: nothing new
        assert not [a for a in again.alerts if a.user_id == uid]
        nearer = await kyc_service.do_expiry_sweep(today + dt.timedelta(days=1))
        assert not [a for a in nearer.alerts if a.user_id == uid]  # 4 days left: still the 7
        last_day = await kyc_service.do_expiry_sweep(today + dt.timedelta(days=4))
        assert [a.days_before for a in last_day.alerts if a.user_id == uid] == [1]
        # the 1-day alert arrives; the re-runs before it sent nothing (exactly two events)
        await socket.wait_for(lambda c: len(c.of("kyc:expiry")) == 2)
        assert [e["days_left"] for e in socket.of("kyc:expiry")] == [5, 1]
        assert socket.invalid == []
    finally:
        await socket.close()

    user = await user_by_id(uid)
    assert user is not None and (await kyc_service.summary(uid, today)).status == (
        KycStatus.VERIFIED)  # fmt: skip
    gone = await kyc_service.do_expiry_sweep(today + dt.timedelta(days=6))
    assert str(licence.id) in gone.expired
    assert [a.days_before for a in gone.alerts if a.user_id == uid] == [0]
    stored = await KycDocument.get(licence.id)
    assert stored is not None and stored.status == DocumentStatus.EXPIRED
    user = await user_by_id(uid)
    assert user is not None and user.kyc_status == KycStatus.EXPIRED

    alerts = await KycExpiryAlert.find({"user_id": uid}).to_list()
    assert sorted(a.days_before for a in alerts) == [0, 1, 7]
    assert all(a.mailed_at is not None for a in alerts)
    mail = read_outbox(Path(get_settings().dev_mailbox_dir), to=holder.email)
    subjects = sorted(m["subject"] for m in mail)
    assert subjects == sorted([
        "Your driving licence expires in 5 days", "Your driving licence expires in 1 day",
        "Your driving licence has expired",
    ])  # fmt: skip
