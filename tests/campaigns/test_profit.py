"""Profit sharing: the largest-remainder split (property-tested), and the report → approval →
pool paid in → one payout per investor flow."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.campaigns import repository
from app.campaigns.documents import TransferStatus
from app.campaigns.errors import InvalidProfitReport
from app.campaigns.flows import PROFIT_PREFIX, campaign_flows
from app.campaigns.schemas import ProfitReportCreate
from app.campaigns.service import campaign_service
from app.campaigns.sharing import profit_pool, split_pro_rata
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.ledger.service import ledger_service
from streams.records import PaymentEventV1
from tests.campaigns.factories import (
    admin_account,
    captured,
    kyc_owner,
    live_campaign,
    with_destination,
)
from tests.payments.sandbox_client import SandboxClient

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

investments = st.lists(
    st.tuples(st.sampled_from([f"u{i:02d}" for i in range(12)]), st.integers(0, 10**9)),
    min_size=1, max_size=40,
).filter(lambda items: any(amount for _, amount in items))  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(pool=st.integers(0, 10**12), items=investments, seed=st.integers(0, 2**32))
def test_parts_sum_exactly_to_the_pool_in_any_input_order(
    pool: int, items: list[tuple[str, int]], seed: int
) -> None:
    parts = split_pro_rata(pool, items)
    assert sum(p.amount for p in parts) == pool
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    assert split_pro_rata(pool, shuffled) == parts  # order never matters
    total = sum(p.invested for p in parts)
    for part in parts:  # each part is its exact share rounded down, or one paisa more
        exact_floor = pool * part.invested // total
        assert part.amount in (exact_floor, exact_floor + 1)


def test_awkward_splits_and_the_stated_tie_order() -> None:
    # ₹100.00 over three equal investors: 3334 + 3333 + 3333, the extra paisa to the
    # smallest user id (equal remainders, equal investments).
    parts = split_pro_rata(10_000, [("c", 500), ("a", 500), ("b", 500)])
    assert [(p.user_id, p.amount) for p in parts] == [("a", 3334), ("b", 3333), ("c", 3333)]
    # Equal remainders: the larger investment first.
    parts = split_pro_rata(1, [("a", 1), ("b", 2), ("c", 1), ("d", 2)])
    assert {p.user_id: p.amount for p in parts} == {"a": 0, "b": 1, "c": 0, "d": 0}
    assert split_pro_rata(0, [("a", 5)])[0].amount == 0
    assert profit_pool(1_000_001, 2_500) == 250_000  # rounded down, never up
    with pytest.raises(ValueError, match="nobody"):
        split_pro_rata(5, [("a", 0)])


@pytest.mark.usefixtures("services")
async def test_an_approved_profit_report_pays_every_investor_their_share(
    payment_sandbox: SandboxClient,
) -> None:
    owner = await kyc_owner()
    campaign = await live_campaign(owner.user_id, goal="10000.00", max_investment="10000.00")
    cid = str(campaign.id)
    investors = []
    for rupees in (3_333, 3_333, 3_334):  # awkward weights
        person = await kyc_owner("investor")
        await with_destination(person.user_id)
        investment = await campaign_service.do_reserve(person.user_id, cid, rupees * 100)
        await campaign_flows.do_apply_payment_event(captured(investment))
        investors.append(person.user_id)
    assert (await campaign_service.get(cid)).status == "funded"
    document = await files_service.do_upload(
        owner.user_id, data=PDF, filename="profit.pdf", purpose=FilePurpose.CAMPAIGN
    )
    today = dt.datetime.now(dt.UTC).date()
    data = ProfitReportCreate(
        period_start=today, period_end=today, profit="10000.01",  # it opened today
        document_file_id=str(document.id), note="Q1",
    )  # fmt: skip
    with pytest.raises(InvalidProfitReport):
        await campaign_flows.do_report_profit(
            owner.user_id, cid, data.model_copy(update={"period_end": today + dt.timedelta(1)})
        )
    report = await campaign_flows.do_report_profit(owner.user_id, cid, data)
    assert report.pool == 200_000  # 20 % of ₹10,000.01, rounded down

    admin = await admin_account()
    approved = await campaign_flows.do_decide_report(admin.user_id, str(report.id), True, "ok")
    assert approved.status == "approved" and approved.checkout_url and approved.order_id
    paid = await payment_sandbox.pay(approved.order_id)
    event = PaymentEventV1(
        id=f"sandbox:pool-{report.id}", provider="sandbox", provider_event_id=f"pool-{report.id}",
        kind="payment.captured", pool_type="campaign", pool_id=cid,
        contribution_id=f"{PROFIT_PREFIX}{report.id}", payment_id=paid["razorpay_payment_id"],
        amount=200_000, currency="INR", occurred_at=f"{today.isoformat()}T10:00:00Z",
    )  # fmt: skip
    assert await campaign_flows.do_apply_profit_pool(event)
    assert not await campaign_flows.do_apply_profit_pool(event)  # a duplicate: nothing
    distributed = await repository.get_report(str(report.id))
    assert distributed is not None and distributed.status == "distributed"
    assert sum(s.amount for s in distributed.shares) == 200_000
    assert sorted(s.amount for s in distributed.shares) == [66_660, 66_660, 66_680]

    await campaign_flows.do_process_transfers(dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    shares = await repository.transfers(campaign_id=cid, kind="profit_share")
    assert len(shares) == 3 and {t.status for t in shares} == {TransferStatus.PAID}
    balances = await ledger_service.balances(cid)
    assert sum(balances.values()) == 0
    assert all(v == 0 for k, v in balances.items() if "profit_payable" in k)
