"""Demo data of chit funds (``python -m devtools.demo``): a KYC-verified demo foreman whose
three-ticket scheme the demo admin approved and the demo member and admin joined, so it is
ACTIVE; the foreman's month falls today and the next month's live auction a month on. The
demo member has a verified mobile number (SMS reminders go to the SMS sandbox) and everyone a
nightly chit score. Idempotent: made once."""

from __future__ import annotations

import datetime as dt

from app.chits.documents import Scheme
from app.chits.schemas import SchemeCreate
from app.chits.service import Actor, chit_service
from app.identity.documents import PlatformRole, User
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from app.kyc.service import kyc_service
from app.sms.documents import MobileNumber

DEMO_SCHEME = "Demo Chit Fund"


async def _kyc_verified(user_id: str) -> None:
    """Stand-in for an admin's review: a verified PAN and proof of address."""
    for kind in (DocumentKind.PAN, DocumentKind.ADDRESS_PROOF):
        if await KycDocument.find_one({"user_id": user_id, "kind": kind.value}) is None:
            doc = KycDocument(user_id=user_id, kind=kind, status=DocumentStatus.VERIFIED,
                              file_id=f"demo-{kind.value}", number_last4="0000")  # fmt: skip
            await doc.insert()
    await kyc_service.do_refresh_status(user_id)  # /me agrees with /kyc


async def load_demo_chits(foreman_email: str, member_email: str, admin_email: str) -> int:
    """Create the demo scheme unless it exists; return 1 if created."""
    users = [await User.find_one({"email": e}) for e in (foreman_email, member_email, admin_email)]
    if any(u is None for u in users):
        return 0
    foreman, member, admin = (str(u.id) for u in users if u is not None)
    if await Scheme.find_one({"name": DEMO_SCHEME, "foreman_id": foreman}) is not None:
        return 0
    for user_id in (foreman, member, admin):
        await _kyc_verified(user_id)
    boss = Actor(foreman, (PlatformRole.USER, PlatformRole.FOREMAN))
    root = Actor(admin, (PlatformRole.USER, PlatformRole.ADMIN))
    today = dt.datetime.now(dt.UTC).date()
    scheme = await chit_service.do_create_scheme(boss, SchemeCreate.model_validate({
        "name": DEMO_SCHEME, "chit_amount": "30000.00", "subscribers": 3,
        "instalment": "10000.00", "commission_bps": 500, "min_bid": "1500.00",
        "bid_step": "500.00", "max_discount": "9000.00", "commission_source": "discount",
        "auction_day": min(today.day, 28), "auction_time": "00:00", "auction_minutes": 10,
        "start_date": today.isoformat(),  # never in the past (refused since the trial)
        "late_penalty": "100.00",
    }))  # fmt: skip
    scheme_id = str(scheme.id)
    await chit_service.do_submit(scheme_id, boss)
    await chit_service.do_decide(scheme_id, root, True, "demo")
    await chit_service.do_subscribe(scheme_id, Actor(member))
    await chit_service.do_subscribe(scheme_id, root)
    # the demo member gets reminders by SMS (the sandbox records them) and a nightly score
    if await MobileNumber.find_one({"user_id": member}) is None:
        await MobileNumber(user_id=member, e164="+919876543210",
                           verified_at=dt.datetime.now(dt.UTC)).insert()  # fmt: skip
    await chit_service.do_nightly_scores(today)
    return 1
