"""Demo data of crowdfunding (``python -m devtools.demo``): a KYC-verified business owner with two
live campaigns (one part-raised by the demo member, with an update), one waiting for the demo
admin's verification, and one funded by the demo member 150 days ago whose first profit report
is overdue (the dashboards' reporting schedule). Idempotent: made once."""

from __future__ import annotations

import datetime as dt
import struct
import uuid
import zlib
from typing import Any

from app.campaigns.documents import Campaign
from app.campaigns.flows import campaign_flows
from app.campaigns.schemas import CampaignFields
from app.campaigns.service import campaign_service
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.identity.documents import User
from app.identity.signup import do_provision_user
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from streams.records import PaymentEventV1

OWNER = ("owner@demo.samooh.in", "samooh-demo-owner", "a business owner raising money (KYC done)")


def _picture(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A 320×180 PNG: two colour bands with a soft edge (a stand-in photo for the demo)."""
    width, height = 320, 180
    rows = []
    for y in range(height):
        mix = min(max((y - 80) / 40, 0.0), 1.0)
        pixel = bytes(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        rows.append(b"\x00" + pixel * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))  # fmt: skip


async def _upload_picture(owner_id: str, name: str, top: tuple[int, int, int],
                          bottom: tuple[int, int, int]) -> str:  # fmt: skip
    stored = await files_service.do_upload(owner_id, data=_picture(top, bottom), filename=name,
                                           purpose=FilePurpose.CAMPAIGN)  # fmt: skip
    return str(stored.id)


def _fields(title: str, story: str, category: str, city: str, goal: str, days: int,
            **extra: Any) -> CampaignFields:  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    return CampaignFields.model_validate({
        "title": title, "story": story, "category": category, "city": city, "goal": goal,
        "min_investment": "500.00", "max_investment": extra.pop("max", goal),
        "profit_share_bps": 2000, "profit_period_months": 3, "starts_on": now.date().isoformat(),
        "ends_at": (now + dt.timedelta(days=days)).isoformat(), **extra,
    })  # fmt: skip


async def load_demo_campaigns(member_email: str, admin_email: str) -> int:
    """Create the owner and the campaigns unless they exist; return how many were created."""
    member = await User.find_one({"email": member_email})
    admin = await User.find_one({"email": admin_email})
    if member is None or admin is None:
        return 0
    owner = await User.find_one({"email": OWNER[0]})
    if owner is None:
        owner = await do_provision_user(
            email=OWNER[0], password=OWNER[1], full_name="Meena Kulkarni", roles=[]
        )
    owner_id = str(owner.id)
    if await Campaign.find_one({"owner_id": owner_id}) is not None:
        return 0
    for kind in (DocumentKind.PAN, DocumentKind.AADHAAR):  # the demo owner's KYC, verified
        await KycDocument(user_id=owner_id, kind=kind, status=DocumentStatus.VERIFIED,
                          file_id="demo", number_last4="4321").insert()  # fmt: skip
    oven = await _upload_picture(owner_id, "oven.png", (235, 170, 90), (120, 70, 40))
    shop = await _upload_picture(owner_id, "shop.png", (120, 170, 220), (60, 80, 120))
    bakery = await campaign_service.do_create(owner_id, _fields(
        "Meena's bakery: a second oven",
        "We bake 400 loaves a day in Kothrud and turn people away by nine. A second deck oven "
        "doubles what we bake; investors share 20% of the profit every quarter.",
        "food", "Pune", "150000.00", 21, max="50000.00", picture_file_ids=[oven]))  # fmt: skip
    tailor = await campaign_service.do_create(owner_id, _fields(
        "Ravi Tailors: a second shop on MG Road",
        "Two more machines and a shop front so wedding orders stop waiting three weeks.",
        "services", "Mysuru", "80000.00", 5, pledge_policy="refuse",
        picture_file_ids=[shop]))  # fmt: skip
    await campaign_service.do_create(owner_id, _fields(
        "Terracotta studio: a kiln for the village potters",
        "A shared electric kiln for twelve potters in Khurja, so firing no longer waits for "
        "the weather.", "crafts", "Khurja", "60000.00", 30))  # fmt: skip
    created = 3
    for campaign in (bakery, tailor):
        await campaign_service.do_submit(owner_id, str(campaign.id))
        await campaign_service.do_review(str(admin.id), str(campaign.id), "verify",
                                         "Demo: documents checked")  # fmt: skip
    third = await Campaign.find_one({"owner_id": owner_id, "status": "draft"})
    if third is not None:
        await campaign_service.do_submit(owner_id, str(third.id))
    # The demo member has already put ₹40,000 into the bakery (a recorded demo payment).
    await _paid(str(member.id), str(bakery.id), 4_000_000)
    await campaign_service.do_post_update(
        owner_id, str(bakery.id), "The oven is ordered",
        "The deck oven ships from Coimbatore next week; the electrician comes on Monday.",
    )  # fmt: skip
    # A milk chiller the demo member funded 150 days ago: its first quarter's profit report
    # is overdue on the owner's dashboard, the campaign's page and the member's dashboard;
    # the worker's overdue sweep tells the owner (in-app and mail) and the member once, within
    # ``campaign_report_check_seconds`` of `make run`.
    dairy = await campaign_service.do_create(owner_id, _fields(
        "Anand's dairy: a bulk milk chiller",
        "A 500-litre chiller so the morning milk keeps until the cooperative's van comes.",
        "agriculture", "Anand", "5000.00", 10))  # fmt: skip
    await campaign_service.do_submit(owner_id, str(dairy.id))
    await campaign_service.do_review(str(admin.id), str(dairy.id), "verify",
                                     "Demo: documents checked")  # fmt: skip
    await _paid(str(member.id), str(dairy.id), 500_000)
    then = dt.datetime.now(dt.UTC) - dt.timedelta(days=150)
    await Campaign.get_pymongo_collection().update_one(
        {"_id": dairy.id},
        {"$set": {"closed_at": then, "live_at": then, "starts_on": then.date().isoformat()}},
    )
    return created + 1


async def _paid(member_id: str, campaign_id: str, amount: int) -> None:
    """A pledge of ``amount`` paise by ``member_id``, paid (a recorded demo payment)."""
    investment = await campaign_service.do_reserve(member_id, campaign_id, amount)
    event_id = f"demo-{uuid.uuid4().hex[:12]}"
    await campaign_flows.do_apply_payment_event(PaymentEventV1(
        id=f"demo:{event_id}", provider="demo", provider_event_id=event_id,
        kind="payment.captured", pool_type="campaign", pool_id=campaign_id,
        contribution_id=str(investment.id), payment_id=f"pay_{event_id}",
        amount=investment.amount, currency="INR",
        occurred_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ))  # fmt: skip
