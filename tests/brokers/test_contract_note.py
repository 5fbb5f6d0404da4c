"""Kite's contract note settles an order's charges: the fills were booked with charges computed
per trade at Zerodha's published rates; the note (``POST /charges/orders``, read once the order
ended) charges the order as a whole — STT rounded to the rupee once per order, not per trade —
and the difference is booked once, shown on the order and audited."""

from __future__ import annotations

from typing import Any

from app.audit.documents import AuditRecord
from app.brokers.kite import kite_updates
from app.brokers.service import broker_service
from app.extensions import Services
from app.ledger.service import ledger_service
from app.orders.broker import BrokerCosts
from app.orders.charges import kite_charges
from app.orders.documents import OrderKind, OrderSide, OrderStatus
from app.orders.schemas import OrderCreate, OrderOut
from app.orders.service import order_service
from streams.records import OrderCommandV1
from tests.brokers.conftest import BrokerSandbox, eventually
from tests.brokers.flows import funded_club, link_kite
from tests.identity.conftest import Api

COSTS = BrokerCosts(5, 1_000, 10_000_000, 10, 100)


class KiteDesk:
    """Stands for the club's Kite link at submission: takes the order and names it (the fills
    are given below as Kite reports them)."""

    name = "kite"

    async def send(self, command: OrderCommandV1) -> str:
        return f"KN{command.order_id[-8:]}"


def trade(trade_id: str, order_id: str) -> dict[str, Any]:
    return {"trade_id": trade_id, "order_id": order_id, "quantity": 1, "average_price": 1450.0,
            "exchange": "NSE", "transaction_type": "BUY",
            "fill_timestamp": "2026-12-04 10:00:00"}  # fmt: skip


async def test_the_contract_note_replaces_the_per_trade_charges_once(
    http: Api, sandbox: BrokerSandbox, services: Services
) -> None:
    club, owner, _ = await funded_club(currency="INR")  # ₹10,000.00
    club_id = str(club.id)
    await link_kite(http, sandbox, club_id, owner)
    made = await order_service.do_create(club_id, owner.user_id, OrderCreate(
        side=OrderSide.BUY, kind=OrderKind.LIMIT, symbol="TCS", quantity=2,
        limit_price="1500.00"))  # fmt: skip
    sent = await order_service.do_submit(
        club_id,
        str(made.id),
        owner.user_id,
        services.require_redis(),
        KiteDesk(),  # type: ignore[arg-type]
    )
    assert sent.broker == "kite" and sent.broker_order_id
    ref = sent.broker_order_id
    # Two trades of one share at ₹1,450.00, each charged on its own when booked.
    state = {"status": "COMPLETE", "order_id": ref}
    for update in kite_updates(sent, state, [trade("T1", ref), trade("T2", ref)], COSTS):
        await order_service.do_apply_broker_update(update)
    filled, fills = await order_service.get(club_id, str(made.id), owner.user_id)
    assert (filled.status, filled.filled_quantity, len(fills)) == (OrderStatus.FILLED, 2, 2)
    per_trade = sum(f.fee for f in fills)
    assert per_trade == 2 * sum(kite_charges("buy", 145_000).values())

    # The poll reads the note of a finished order (the session's worker may be first).
    await broker_service.do_settle_charges_due()

    async def settled() -> Any:
        order, _ = await order_service.get(club_id, str(made.id), owner.user_id)
        return order if order.contract_charges is not None else None

    order = await eventually(settled)
    assert order is not None, "the contract note was never read"
    note = kite_charges("buy", 290_000)  # the order's whole value, rounded once
    assert order.contract_charges == note
    # STT: ₹1.45 a trade rounds to ₹1 twice, ₹2.90 for the order rounds to ₹3 — ₹1.00 more;
    # exchange charges: 4 + 4 paise by trade, 9 for the order — 1 paisa more.
    assert order.charges_adjustment == sum(note.values()) - per_trade == 101
    assert order.fees == sum(note.values())
    balances = await ledger_service.balances(club_id)
    assert balances["expenses:trading_costs"] == per_trade + 101  # the club's only costs
    assert sum(balances.values()) == 0
    shown = OrderOut.of(order)
    assert shown.charges_adjustment == "1.01" and shown.fees == f"{sum(note.values()) / 100:.2f}"
    assert {c.name: c.amount for c in shown.contract_charges or []}["stt"] == "3.00"
    # Read again (another worker, the next poll): nothing changes.
    assert await order_service.do_settle_charges(str(made.id), note, "kite") is None
    assert (await ledger_service.balances(club_id))["expenses:trading_costs"] == per_trade + 101
    audits = await AuditRecord.find(
        {"action": "order.charges_settled", "target_id": str(made.id)}
    ).to_list()
    assert len(audits) == 1 and audits[0].details["adjustment"] == 101
