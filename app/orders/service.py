"""Orders of a club (docs/domain.md, orders and portfolio): enter, submit to the broker, cancel,
and reconcile what the broker reports.

Currency (issue #14, docs/domain.md "Instruments in another currency"): an order is in its
instrument's currency (``Order.currency``: prices, ``reserved``, fills and fees as the broker
sees them). A club may trade an instrument quoted in another currency than its own when the
ECB publishes a rate between the two (``fx_rate_unavailable`` otherwise); the books convert at
every money moment: the hold at submission, each fill at its trade date's rate.

Quantity from an amount: a proposal may give an ``amount`` (minor units of the club's
currency) instead of shares; at submission it becomes floor(amount ÷ price), the price being
the limit price of a limit order or the last cached quote of a market order (``no_quote``
without one; ``invalid_order`` when the amount buys no share) — for an instrument in another
currency the price is first converted at the ECB rate of the quote's day:
floor(amount × 10^8 ÷ (price × rate_e8)), exact integers. Fees and slippage come on top and
must fit the club's cash.

Cash: a buy sets aside ``reserved`` = shares × worst price it accepts (limit, or the last price
+ slippage + ``broker_market_buffer_bps``, rounded up) + the fee on that (``buy_fee``: the
club's fee schedule, or a linked broker's own charges when more); it is submitted only
if the club's cash minus what its other open buys hold covers ``held`` (else
``insufficient_cash``, nothing changes). ``held`` is ``reserved`` itself in the club's
currency; for another currency ``reserved`` converted at the ECB rate of the last quote's
trading day (the replay date; today without a quote), half-even, then raised by
``broker_fx_margin_bps`` (default 3 %) and rounded up — the margin covers the rate moving
between that day and the fill's. The paper broker never spends more than ``reserved``; a fill
spends from the hold what the books booked for it (in the club's currency).

Reconciliation (``do_apply_broker_update``, one transaction per update that also bumps the
club's ``money_seq``): a fill is applied once (unique ``fill_id`` + the journal's idempotency
key ``fill:<fill_id>``), never beyond the order's quantity, and books the trade through the
clubs' ledger (``books_service.post_trade``); a status update only moves an order forward
(``STATUS_RANK``), so a repeated or out-of-order update never double-counts or goes back. A
fill that arrives after a cancel is still booked (the broker executed it). Each applied
update appends ``order:updated`` to the room's log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis

from app.audit.service import audit_service, club_chain
from app.books.errors import InsufficientCash, InsufficientHoldings
from app.books.portfolio import emit_nav_after_fill
from app.books.service import books_service
from app.books.units import BPS
from app.clubs.service import TREASURY, club_service
from app.config import Settings, get_settings
from app.db import run_in_transaction
from app.errors import AppError, ServiceUnavailable
from app.fx import RATE_SCALE, FxRate
from app.fx import rate as fx_rate
from app.logging import get_logger
from app.market.documents import Instrument
from app.market.service import NoQuoteYet, market_service
from app.money import format_minor, parse_minor
from app.orders import repository
from app.orders.broker import (
    Broker,
    BrokerCosts,
    BrokerLoginRequired,
    BrokerRejected,
    BrokerUnavailable,
)
from app.orders.broker import update as broker_update
from app.orders.charges import charges_for
from app.orders.documents import (
    STATUS_RANK,
    Fill,
    Order,
    OrderKind,
    OrderSide,
    OrderStatus,
)
from app.orders.errors import (
    BrokerLoginRequiredError,
    ChangeExceedsCash,
    InvalidOrder,
    OrderNotFound,
    OrderStateError,
)
from app.orders.schemas import FillOut, OrderCreate, OrderModify, OrderOut, OrderUpdatedEvent
from app.realtime import events
from app.realtime.eventlog import iso, utcnow
from app.realtime.rooms import club_room
from streams.records import BrokerUpdateV1, OrderCommandV1

log = get_logger(__name__)

ORDER_UPDATED = "order:updated"
MODIFY_LEASE = dt.timedelta(seconds=60)
"""How long a change's mark (``Order.modifying_at``) keeps a second change out: a process that
died between asking the broker and recording its answer leaves it; the larger hold it took stays
until the next change or the order's end."""


def _aware(when: dt.datetime) -> dt.datetime:
    """``when`` as UTC-aware (MongoDB gives naive UTC datetimes back)."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Applied:
    """What reconciling one broker update did: the order after it and the fill booked (if
    any). ``order`` None: nothing changed (duplicate, stale)."""

    order: Order | None
    fill: Fill | None = None


def buy_fee(costs: BrokerCosts, broker: str | None, symbol: str, quantity: int,
            value: int) -> int:  # fmt: skip
    """The fee a buy of ``quantity`` shares worth ``value`` minor units sets aside: the club's
    fee schedule, or the broker's own charges (app/orders/charges.py) when they are more."""
    own = charges_for(broker, OrderSide.BUY.value, symbol, quantity, value) or {}
    return max(costs.fee(value), sum(own.values()))


def hold_key(order_id: str) -> str:
    """The books' cash-hold key of a buy order."""
    return f"order:{order_id}"


class OrderService:
    """Orders. Takes the acting user's id explicitly."""

    async def list_orders(self, club_id: str, actor_id: str) -> list[Order]:
        """The club's orders, newest first (any member). Raises ``ClubNotFound``."""
        await club_service.check_member(club_id, actor_id)
        return await repository.club_orders(club_id)

    async def get(self, club_id: str, order_id: str, actor_id: str) -> tuple[Order, list[Fill]]:
        """One order and its fills (any member). Raises ``ClubNotFound``, ``OrderNotFound``."""
        await club_service.check_member(club_id, actor_id)
        order = await repository.get_order(order_id)
        if order is None or order.club_id != club_id:
            raise OrderNotFound("no such order")
        return order, await repository.fills_of(order_id)

    async def placed(self, origins: list[str]) -> dict[str, Order]:
        """The orders entered under these ``origin`` keys (``do_create``), by key."""
        return await repository.orders_by_origin(origins)

    async def check_instrument(self, currency: str, symbol: str) -> Instrument:
        """A club keeping ``currency`` can trade ``symbol``: it exists, is not an index, and is
        quoted either in that currency or in one the ECB publishes a rate for against it.
        Returns the instrument. Raises ``UnknownSymbols``, ``InvalidOrder``,
        ``FxRateUnavailable`` (422)."""
        instrument = await market_service.instrument(symbol)
        if instrument.is_index:
            raise InvalidOrder("an index cannot be traded", details={"symbol": symbol})
        if instrument.currency != currency:
            await fx_rate(instrument.currency, currency, utcnow().date())
        return instrument

    async def do_create(self, club_id: str, actor_id: str, data: OrderCreate,
                        origin: str | None = None) -> Order:  # fmt: skip
        """Enter an order directly (owner/admin/treasurer); it waits to be submitted.

        ``origin``: the key of what placed it (a rebalance run's trade), unique: the order
        already entered under it is returned as it is now, and no second one is made.

        Raises:
            ClubNotFound, RoleRequired, UnknownSymbols, FxRateUnavailable, InvalidOrder.
        """
        if origin is not None:
            placed = (await repository.orders_by_origin([origin])).get(origin)
            if placed is not None:
                return placed
        club, _ = await club_service.check_member(club_id, actor_id, TREASURY)
        instrument = await self.check_instrument(club.currency, data.symbol)
        room = club_room(club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Order:
            order = Order(
                club_id=club_id, side=data.side, kind=data.kind, symbol=data.symbol,
                currency=instrument.currency, quantity=data.quantity,
                limit_price=data.limit_price,
                created_by=actor_id, origin=origin,
            )  # fmt: skip
            await repository.insert_order(order, session)
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="order.created",
                target_type="order", target_id=str(order.id),
                details={"side": data.side.value, "symbol": data.symbol,
                         "quantity": data.quantity, "limit_price": data.limit_price},
                session=session,
            )  # fmt: skip
            await events.room_event(session, room, ORDER_UPDATED, OrderUpdatedEvent,
                                    club_id=club_id, order=OrderOut.of(order))  # fmt: skip
            return order

        try:
            return await run_in_transaction(body)
        except DuplicateKeyError:
            # entered a moment ago under the same origin (two placements of one run raced)
            placed = (await repository.orders_by_origin([str(origin)])).get(str(origin))
            if origin is None or placed is None:
                raise
            return placed

    async def do_open_for_proposal(
        self,
        session: AsyncClientSession,
        club_id: str,
        proposal_id: str,
        *,
        side: OrderSide,
        symbol: str,
        quantity: int | None,
        amount: int | None,
        limit_price: int | None,
    ) -> Order:
        """The order an approved investment proposal creates, inside the closing transaction:
        it waits for the treasurer (``awaiting_execution``) and appears on every member's
        screen (``order:updated`` in the room's log). ``amount``/``limit_price`` minor units;
        the room's counter exists already (the proposal's own events use it)."""
        order = Order(
            id=PydanticObjectId(), club_id=club_id, proposal_id=proposal_id, side=side,
            symbol=symbol, quantity=quantity, amount=amount, limit_price=limit_price,
            created_at=utcnow(),
        )  # fmt: skip
        await repository.insert_order(order, session)
        await events.room_event(session, club_room(club_id), ORDER_UPDATED, OrderUpdatedEvent,
                                club_id=club_id, order=OrderOut.of(order))  # fmt: skip
        return order

    async def do_submit(
        self, club_id: str, order_id: str, actor_id: str, redis: Redis, broker: Broker
    ) -> Order:
        """Send an order awaiting execution to the broker (owner/admin/treasurer): fixes its
        quantity (from an amount), reserves the cash of a buy, then hands the broker a
        ``submit`` command. If the broker cannot be reached the order goes back to
        ``awaiting_execution`` and ``service_unavailable`` (503) is raised.

        Raises:
            ClubNotFound, RoleRequired, OrderNotFound, OrderStateError, FxRateUnavailable,
            NoQuoteYet, InvalidOrder, InsufficientCash, InsufficientHoldings,
            ServiceUnavailable.
        """
        settings = get_settings()
        costs = BrokerCosts.of(settings)
        club, _ = await club_service.check_member(club_id, actor_id, TREASURY)
        order = await repository.get_order(order_id)
        if order is None or order.club_id != club_id:
            raise OrderNotFound("no such order")
        instrument = await self.check_instrument(club.currency, order.symbol)
        last: int | None = None
        quote_day = utcnow().date()
        quotes = await market_service.latest_quotes(redis, [order.symbol])
        if quotes:
            last = parse_minor(quotes[0].price)
            quote_day = min(quote_day, dt.date.fromisoformat(quotes[0].trade_date))
        fx: FxRate | None = None
        if instrument.currency != club.currency:  # the replay date's rate (app/fx.py)
            fx = await fx_rate(instrument.currency, club.currency, quote_day)
        room = club_room(club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Order:
            await club_service.do_bump_money_seq(club_id, session)
            current = await repository.get_order(order_id, session)
            assert current is not None
            if current.status is not OrderStatus.AWAITING_EXECUTION:
                raise OrderStateError("only an order awaiting execution can be submitted",
                                      details={"status": current.status.value})  # fmt: skip
            if current.kind is OrderKind.MARKET and last is None:
                raise NoQuoteYet(f"no quote for {current.symbol} yet: a market order needs one",
                                 details={"symbol": current.symbol})  # fmt: skip
            quantity = current.quantity
            if quantity is None:
                reference = current.limit_price if current.limit_price is not None else last
                assert reference is not None and current.amount is not None
                quantity = (current.amount * RATE_SCALE // (reference * fx.rate_e8) if fx
                            else current.amount // reference)  # fmt: skip
                if quantity <= 0:
                    raise InvalidOrder(
                        "the amount does not buy one share",
                        details={"amount": current.amount, "price": reference},
                    )
            reserved = held = 0
            if current.side is OrderSide.BUY:
                if current.limit_price is not None:
                    worst = current.limit_price
                else:
                    assert last is not None
                    markup = BPS + costs.slippage_bps + settings.broker_market_buffer_bps
                    worst = -(-last * markup // BPS)  # rounded up, integers only
                reserved = quantity * worst + buy_fee(costs, broker.name, current.symbol,
                                                      quantity, quantity * worst)  # fmt: skip
                held = reserved
                if fx is not None:  # converted half-even, the margin rounded up
                    margin = BPS + settings.broker_fx_margin_bps
                    held = -(-fx.convert(reserved) * margin // BPS)
                await books_service.do_hold_cash(session, club_id, hold_key(order_id), held)
            else:
                holding = await books_service.holding(club_id, current.symbol, session)
                selling = await repository.shares_for_sale(club_id, current.symbol, session)
                held = holding.quantity if holding else 0
                if held - selling < quantity:
                    raise InsufficientHoldings(
                        f"the club holds {held} {current.symbol} ({selling} already for sale)",
                        details={"held": held, "for_sale": selling},
                    )
            now = utcnow()
            changes = {
                "status": OrderStatus.SUBMITTED.value, "quantity": quantity,
                "reserved": reserved, "currency": instrument.currency, "broker": broker.name,
                "submitted_by": actor_id, "submitted_at": now, "updated_at": now,
                "held": held, "hold_rate_e8": fx.rate_e8 if fx else None,
                "hold_rate_date": fx.rate_date.isoformat() if fx else None,
            }  # fmt: skip
            await repository.update_order(current.id, changes, session)
            current.status, current.quantity, current.reserved = (
                OrderStatus.SUBMITTED, quantity, reserved)  # fmt: skip
            current.currency, current.broker, current.submitted_by = (
                instrument.currency, broker.name, actor_id)  # fmt: skip
            current.held = held
            current.hold_rate_e8 = fx.rate_e8 if fx else None
            current.hold_rate_date = fx.rate_date.isoformat() if fx else None
            current.submitted_at = current.updated_at = now
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="order.submitted",
                target_type="order", target_id=order_id,
                details={"quantity": quantity, "reserved": reserved, "held": held,
                         "broker": broker.name},
                session=session,
            )  # fmt: skip
            await events.room_event(session, room, ORDER_UPDATED, OrderUpdatedEvent,
                                    club_id=club_id, order=OrderOut.of(current))  # fmt: skip
            return current

        submitted = await run_in_transaction(body)
        try:
            return await self.do_hand_over(submitted, broker)
        except (BrokerUnavailable, AppError):
            raise
        except Exception as exc:
            await self._back_to_awaiting(submitted)
            raise ServiceUnavailable("the broker could not be reached; try again") from exc

    async def do_hand_over(self, order: Order, broker: Broker) -> Order:
        """Hand a ``submitted`` order to ``broker`` and remember the broker's order id. Used
        on submit and, for a linked broker that did not take it (outage, expired session),
        again later (app/brokers re-sends; the broker adapter never places it twice).

        A broker's refusal of the order becomes a ``rejected`` update with its reason,
        reconciled like any other (the cash set aside is freed).

        Raises:
            BrokerLoginRequiredError (503 ``broker_login_required``) and ServiceUnavailable
            (503) from a linked broker — the order stays ``submitted`` and is re-sent —, and
            whatever else ``broker.send`` raises (the paper broker's producer failing).
        """
        try:
            ref = await broker.send(self._command(order, "submit"))
        except BrokerRejected as exc:
            rejected = broker_update(str(order.id), order.club_id, "rejected",
                                     reason=exc.reason[:200] or "rejected_by_broker")  # fmt: skip
            applied = await self.do_apply_broker_update(rejected)
            return applied.order or order
        except BrokerLoginRequired as exc:
            raise BrokerLoginRequiredError(
                "the broker asks the treasurer to log in again; the order is kept and is sent "
                "once the club's broker session is renewed",
                details={"broker": broker.name, "queued": True, "order_id": str(order.id)},
            ) from exc  # fmt: skip
        except BrokerUnavailable as exc:
            # The order is kept (``submitted``, waiting for the broker) and re-sent by the
            # poll: ``queued`` tells a client it need not try again.
            raise ServiceUnavailable(
                "the broker is not answering; the order is queued and re-sent automatically "
                "when it answers",
                details={"broker": broker.name, "queued": True, "order_id": str(order.id)},
            ) from exc  # fmt: skip
        if ref:
            await repository.note_broker_order_id(order.id, ref)
            order.broker_order_id = order.broker_order_id or ref
        return order

    async def do_note_broker_replacement(self, order: Order, new_id: str) -> None:
        """The broker replaced ``order`` by a new order ``new_id`` that was never recorded
        (Alpaca's replace answered, then the change's process died): follow the new id from
        now on. ``order`` is updated in place."""
        old = order.broker_order_id
        if old and old != new_id and await repository.note_broker_replacement(order.id, old,
                                                                               new_id):  # fmt: skip
            log.warning("broker replacement noted by the poll", order_id=str(order.id))
            order.replaced_broker_ids = [*order.replaced_broker_ids, old]
            order.broker_order_id = new_id

    async def open_broker_orders(self) -> list[Order]:
        """Orders at a linked broker (Kite, Alpaca) that are not final: the poll's work."""
        return await repository.broker_orders_open()

    async def order_by_broker_id(self, broker: str, broker_order_id: str) -> Order | None:
        """The order ``broker`` knows by ``broker_order_id``, if any."""
        return await repository.order_by_broker_id(broker, broker_order_id)

    async def order(self, order_id: str) -> Order | None:
        """One order by id (no access check: for agents and adapters)."""
        return await repository.get_order(order_id)

    def command(self, order: Order, action: str) -> OrderCommandV1:
        """The ``submit`` / ``cancel`` command of ``order`` as brokers receive it."""
        return self._command(order, action)

    async def _back_to_awaiting(self, order: Order) -> None:
        """The broker never took the submission: the order waits again and its cash is free."""

        async def body(session: AsyncClientSession) -> None:
            await club_service.do_bump_money_seq(order.club_id, session)
            moved = await repository.update_order(
                order.id, {"status": OrderStatus.AWAITING_EXECUTION.value, "reserved": 0,
                           "held": 0},
                session, guard={"status": OrderStatus.SUBMITTED.value},
            )  # fmt: skip
            if moved:
                await books_service.do_release_hold(session, hold_key(str(order.id)))

        await run_in_transaction(body)

    async def stale_submissions(self, older_than: dt.timedelta) -> list[OrderCommandV1]:
        """``submit`` commands again for orders still ``submitted`` (no word from the broker)
        after ``older_than``: the process that submitted may have died between its commit and
        handing the command over. The broker takes a repeated submit once."""
        cutoff = utcnow() - older_than
        stale = await repository.submitted_before(cutoff)
        return [self._command(order, "submit") for order in stale if order.quantity is not None]

    @staticmethod
    def _command(order: Order, action: str, command_id: str | None = None) -> OrderCommandV1:
        assert order.quantity is not None and order.currency is not None
        return OrderCommandV1(
            id=command_id or f"{order.id}:{action}", action=action, order_id=str(order.id),
            club_id=order.club_id, side=order.side.value, kind=order.kind.value,
            symbol=order.symbol, quantity=order.quantity, limit_price=order.limit_price,
            currency=order.currency, reserved=order.reserved,
            issued_at=iso(dt.datetime.now(dt.UTC)),
        )  # fmt: skip

    async def do_cancel(self, club_id: str, order_id: str, actor_id: str,
                        broker: Broker) -> Order:  # fmt: skip
        """Cancel an order (owner/admin/treasurer). One not yet submitted is cancelled at once;
        one at the broker gets a ``cancel`` command and turns ``cancelled`` when the broker
        reports it (what filled meanwhile stays filled).

        Raises:
            ClubNotFound, RoleRequired, OrderNotFound, OrderStateError (already final).
        """
        await club_service.check_member(club_id, actor_id, TREASURY)
        room = club_room(club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Order:
            order = await repository.get_order(order_id, session)
            if order is None or order.club_id != club_id:
                raise OrderNotFound("no such order")
            if STATUS_RANK[order.status] == 4:
                raise OrderStateError("this order is already final",
                                      details={"status": order.status.value})  # fmt: skip
            now = utcnow()
            if order.status is OrderStatus.AWAITING_EXECUTION:
                changes = {"status": OrderStatus.CANCELLED.value, "reason": "cancelled_by_user",
                           "updated_at": now}  # fmt: skip
                order.status, order.reason = OrderStatus.CANCELLED, "cancelled_by_user"
            else:
                changes = {"cancel_requested_at": now, "updated_at": now}
                order.cancel_requested_at = now
            order.updated_at = now
            await repository.update_order(order.id, changes, session)
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="order.cancel_requested",
                target_type="order", target_id=order_id, details={"status": order.status.value},
                session=session,
            )  # fmt: skip
            if order.status is OrderStatus.CANCELLED:
                await events.room_event(session, room, ORDER_UPDATED, OrderUpdatedEvent,
                                        club_id=club_id, order=OrderOut.of(order))  # fmt: skip
            return order

        order = await run_in_transaction(body)
        if order.status is not OrderStatus.CANCELLED:
            try:
                await broker.send(self._command(order, "cancel"))
            except BrokerRejected as exc:  # e.g. filled meanwhile: the broker's word stands
                log.warning("broker refused a cancel", order_id=order_id, reason=exc.reason)
            except BrokerLoginRequired as exc:
                raise BrokerLoginRequiredError(
                    "the broker asks the treasurer to log in again", details={"broker": broker.name}
                ) from exc
            except Exception as exc:
                raise ServiceUnavailable("the broker could not be reached; try again") from exc
        return order

    async def do_modify(self, club_id: str, order_id: str, actor_id: str, data: OrderModify,
                        broker: Broker) -> Order:  # fmt: skip
        """Change an open order's quantity and/or limit price (owner/admin/treasurer), through
        its broker (Kite: modify; Alpaca: replace, which gives the order a new broker id; the
        paper broker: a ``modify`` command).

        Rules: the order is at the broker (accepted or partly filled, no cancel asked, no
        other change in progress); the new quantity is more than what has filled; a limit
        price only for a limit order; a market buy cannot grow (no price to hold cash at); a
        sell may not sell more than the club holds.

        Cash of a limit buy (the rule of placing it, docs/domain.md): the order holds
        ``reserved`` = what its fills spent (value + fees) + remaining shares × limit + the
        fee on that, in the instrument's currency; ``held`` is that in the club's currency
        (for another currency: converted at the order's hold rate, plus the FX margin,
        rounded up). A change that makes ``held`` larger needs the extra from the club's free
        cash less what its other open buys hold (else ``change_exceeds_cash``, 422, nothing
        changed); one that makes it smaller frees cash.

        Three steps, each money write in a transaction that first bumps the club's
        ``money_seq`` (so two changes, or a change and a fill, never interleave): (1) the
        larger of the old and new hold is taken and the order marked ``modifying_at``; (2)
        the broker is asked; (3) its answer is recorded — the new terms, ``reserved`` and
        ``held`` and the hold itself (or, if the broker refused or did not answer, the old
        ones back). The change is audited (``order.modified``, before and after) and shown as
        ``order:updated``.

        Raises:
            ClubNotFound, RoleRequired, OrderNotFound, OrderStateError (409), InvalidOrder
            (422), ChangeExceedsCash (422), InsufficientCash (409: a market buy growing),
            InsufficientHoldings (409), BrokerLoginRequiredError / ServiceUnavailable (503:
            nothing changed).
        """
        settings = get_settings()
        costs = BrokerCosts.of(settings)
        club, _ = await club_service.check_member(club_id, actor_id, TREASURY)
        order = await repository.get_order(order_id)
        if order is None or order.club_id != club_id:
            raise OrderNotFound("no such order")
        self._check_modify(order, data)
        if data.quantity is not None and order.side is OrderSide.SELL:
            holding = await books_service.holding(club_id, order.symbol)
            selling = await repository.shares_for_sale(club_id, order.symbol, None)
            held = holding.quantity if holding else 0
            extra = data.quantity - (order.quantity or 0)
            if extra > 0 and held - selling < extra:
                raise InsufficientHoldings(
                    f"the club holds {held} {order.symbol} ({selling} already for sale)",
                    details={"held": held, "for_sale": selling},
                )
        room = club_room(club_id)
        await events.ensure_room(room)
        stamp = utcnow()
        open_statuses = [OrderStatus.ACCEPTED.value, OrderStatus.PARTIALLY_FILLED.value]

        async def take(session: AsyncClientSession) -> tuple[Order, int, int]:
            # (1) the larger hold, and the mark that a change is at the broker
            await club_service.do_bump_money_seq(club_id, session)
            current = await repository.get_order(order_id, session)
            assert current is not None
            self._check_modify(current, data)
            busy = current.modifying_at
            if busy is not None and _aware(busy) > stamp - MODIFY_LEASE:
                raise OrderStateError(
                    "another change of this order is at the broker: wait for it",
                    details={"status": current.status.value},
                )
            reserved, held = self._hold_after_change(current, data, costs, settings,
                                                     club.currency)  # fmt: skip
            if held > current.held:
                try:
                    await books_service.do_resize_hold(session, club_id, hold_key(order_id),
                                                       held)  # fmt: skip
                except InsufficientCash as exc:
                    raise ChangeExceedsCash(
                        "the club's free cash does not cover this change: the order would set "
                        f"aside {format_minor(held)} {club.currency} instead of "
                        f"{format_minor(current.held)}",
                        details={**(exc.details or {}), "held": format_minor(current.held),
                                 "held_after": format_minor(held)},
                    ) from exc  # fmt: skip
            guard: dict[str, object] = {
                "status": {"$in": open_statuses}, "cancel_requested_at": None,
                "modifying_at": busy,
            }  # fmt: skip
            marked = {"modifying_at": stamp, "reserved": max(reserved, current.reserved),
                      "held": max(held, current.held)}  # fmt: skip
            if not await repository.update_order(current.id, marked, session, guard):
                raise OrderStateError("the order changed meanwhile (filled or ended)",
                                      details={"status": current.status.value})  # fmt: skip
            return current, reserved, held

        before, reserved, held = await run_in_transaction(take)
        changed = before.model_copy()
        if data.quantity is not None:
            changed.quantity = data.quantity
        if data.limit_price is not None:
            changed.limit_price = data.limit_price
        changed.reserved = reserved
        command = self._command(changed, "modify", f"{order.id}:modify:{stamp.timestamp():.6f}")
        try:
            ref = await broker.send(command)
        except Exception as exc:
            await self._undo_change(before, stamp)
            if isinstance(exc, BrokerRejected):
                raise OrderStateError(f"the broker refused the change: {exc.reason}",
                                      details={"broker": broker.name}) from exc  # fmt: skip
            if isinstance(exc, BrokerLoginRequired):
                raise BrokerLoginRequiredError(
                    "the broker asks the treasurer to log in again; the order was not changed",
                    details={"broker": broker.name}) from exc  # fmt: skip
            raise ServiceUnavailable("the broker is not answering; the order was not changed",
                                     details={"broker": broker.name}) from exc  # fmt: skip

        async def record(session: AsyncClientSession) -> Order | None:
            # (3) the broker took it: the new terms, and the hold of the new terms
            await club_service.do_bump_money_seq(club_id, session)
            current = await repository.get_order(order_id, session)
            assert current is not None
            changes: dict[str, object] = {"updated_at": stamp, "modifying_at": None}
            if data.quantity is not None:
                changes["quantity"] = data.quantity
            if data.limit_price is not None:
                changes["limit_price"] = data.limit_price
            if ref and ref != current.broker_order_id:
                changes["broker_order_id"] = ref  # Alpaca's replacement has its own id
                if current.broker_order_id:
                    changes["replaced_broker_ids"] = [*current.replaced_broker_ids,
                                                      current.broker_order_id]  # fmt: skip
            total = data.quantity or (current.quantity or 0)
            guard = {"status": {"$in": open_statuses}, "modifying_at": stamp,
                     "filled_quantity": {"$lt": total}}  # fmt: skip
            if not await repository.update_order(
                current.id, {**changes, "reserved": reserved, "held": held}, session, guard
            ):
                # filled or ended while the broker changed it: only the mark goes
                await repository.update_order(current.id, {"modifying_at": None}, session,
                                              {"modifying_at": stamp})  # fmt: skip
                return None
            if current.side is OrderSide.BUY:
                await books_service.do_resize_hold(session, club_id, hold_key(order_id), held)
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="order.modified",
                target_type="order", target_id=order_id,
                details={"broker": current.broker, "broker_order_id": ref or None,
                         "before": {"quantity": before.quantity,
                                    "limit_price": before.limit_price},
                         "after": {"quantity": data.quantity or before.quantity,
                                   "limit_price": data.limit_price or before.limit_price},
                         "held": {"before": before.held, "after": held}},
                session=session,
            )  # fmt: skip
            for name, value in {**changes, "reserved": reserved, "held": held}.items():
                setattr(current, name, value)
            await events.room_event(session, room, ORDER_UPDATED, OrderUpdatedEvent,
                                    club_id=club_id, order=OrderOut.of(current))  # fmt: skip
            return current

        done = await run_in_transaction(record)
        if done is None:
            raise OrderStateError("the order changed meanwhile (filled or ended)",
                                  details={"status": "final"})  # fmt: skip
        return done

    async def _undo_change(self, before: Order, stamp: dt.datetime) -> None:
        """The broker did not take a change: the order's hold, ``reserved`` and ``held`` go
        back to what they were before it, and its mark goes (an order that ended meanwhile
        keeps what its end set)."""

        async def body(session: AsyncClientSession) -> None:
            await club_service.do_bump_money_seq(before.club_id, session)
            guard = {"modifying_at": stamp,
                     "status": {"$in": [OrderStatus.ACCEPTED.value,
                                        OrderStatus.PARTIALLY_FILLED.value]}}  # fmt: skip
            back = {"modifying_at": None, "reserved": before.reserved, "held": before.held}
            if await repository.update_order(before.id, back, session, guard):
                if before.side is OrderSide.BUY:
                    await books_service.do_resize_hold(
                        session, before.club_id, hold_key(str(before.id)), before.held
                    )
            else:
                await repository.update_order(before.id, {"modifying_at": None}, session,
                                              {"modifying_at": stamp})  # fmt: skip

        await run_in_transaction(body)

    @staticmethod
    def _hold_after_change(order: Order, data: OrderModify, costs: BrokerCosts,
                           settings: Settings, club_currency: str) -> tuple[int, int]:  # fmt: skip
        """(``reserved``, ``held``) of a buy after the change, minor units of the
        instrument's and the club's currency; a sell's or a market buy's stay as they are."""
        price = data.limit_price if data.limit_price is not None else order.limit_price
        if order.side is not OrderSide.BUY or price is None:
            return order.reserved, order.held
        quantity = data.quantity if data.quantity is not None else (order.quantity or 0)
        remaining = quantity - order.filled_quantity
        reserved = (order.filled_value + order.fees + remaining * price
                    + buy_fee(costs, order.broker, order.symbol, remaining,
                              remaining * price))  # fmt: skip
        if order.hold_rate_e8 is None or order.hold_rate_date is None:
            return reserved, reserved
        # the hold's own rate (of its submission), half-even, then the FX margin rounded up
        day = dt.date.fromisoformat(order.hold_rate_date)
        fx = FxRate(base=order.currency or club_currency, quote=club_currency, on=day,
                    rate_date=day, rate_e8=order.hold_rate_e8)  # fmt: skip
        margin = BPS + settings.broker_fx_margin_bps
        return reserved, -(-fx.convert(reserved) * margin // BPS)

    @staticmethod
    def _check_modify(order: Order, data: OrderModify) -> None:
        if order.status not in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED):
            raise OrderStateError("only an order working at the broker can be changed",
                                  details={"status": order.status.value})  # fmt: skip
        if order.cancel_requested_at is not None:
            raise OrderStateError("a cancel was asked for this order", details={})
        if data.limit_price is not None and order.kind is not OrderKind.LIMIT:
            raise InvalidOrder("a market order has no limit price to change")
        quantity = data.quantity if data.quantity is not None else (order.quantity or 0)
        if quantity <= order.filled_quantity:
            raise InvalidOrder(
                f"{order.filled_quantity} shares have filled: the new quantity must be more",
                details={"filled_quantity": order.filled_quantity},
            )
        grows = data.quantity is not None and data.quantity > (order.quantity or 0)
        if order.side is OrderSide.BUY and order.limit_price is None and grows:
            raise InsufficientCash(
                "a market buy cannot grow: cancel it and place a new order instead",
                details={"reserved": format_minor(order.reserved)},
            )

    async def do_apply_broker_update(self, update: BrokerUpdateV1) -> Applied:
        """Reconcile one broker report, idempotently (the orders agent calls this; see the
        module docstring). Raises ``InsufficientCash`` / ``InsufficientHoldings`` if the
        club's books cannot take a fill (nothing is written; the agent logs it)."""
        room = club_room(update.club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Applied:
            order = await repository.get_order(update.order_id, session)
            if order is None or order.club_id != update.club_id:
                return Applied(None)
            await club_service.do_bump_money_seq(order.club_id, session)
            now = utcnow()
            fields: dict[str, object] = {"updated_at": now}
            inc: dict[str, int] | None = None
            fill: Fill | None = None
            if update.fill_id:
                charges = dict(update.charges or {})
                if (update.fill_quantity <= 0 or update.fill_price <= 0 or update.fee < 0
                        or any(v < 0 for v in charges.values())
                        or (charges and sum(charges.values()) != update.fee)):  # fmt: skip
                    log.error("malformed fill ignored", fill_id=update.fill_id)
                    return Applied(None)
                if await repository.find_fill(update.fill_id, session) is not None:
                    return Applied(None)  # this execution was booked already
                if order.filled_quantity + update.fill_quantity > (order.quantity or 0):
                    log.error("fill beyond the order's quantity ignored",
                              fill_id=update.fill_id, order_id=update.order_id)  # fmt: skip
                    return Applied(None)
                day = booking_day(order, update.trade_date)
                posting = await books_service.post_trade(
                    session, order.club_id, side=order.side.value, symbol=order.symbol,
                    quantity=update.fill_quantity, price=update.fill_price, fees=update.fee,
                    trade_date=day, priced_on=price_day(update.trade_date, day),
                    entry_key=f"fill:{update.fill_id}", actor_id=order.submitted_by,
                    audit_action="order.filled",
                    audit_details={"order_id": update.order_id, "fill_id": update.fill_id},
                    currency=order.currency,
                )  # fmt: skip
                if not posting.new:
                    return Applied(None)
                fill = Fill(
                    fill_id=update.fill_id, order_id=update.order_id, club_id=order.club_id,
                    symbol=order.symbol, side=order.side, quantity=update.fill_quantity,
                    price=update.fill_price, fee=update.fee, realised=posting.realised_gain,
                    booked=posting.cash, rate_e8=posting.fx.rate_e8 if posting.fx else None,
                    charges=charges, trade_date=day.isoformat(), tick_seq=update.tick_seq,
                    reported_trade_date=(update.trade_date
                                         if update.trade_date != day.isoformat() else None),
                )  # fmt: skip
                await repository.insert_fill(fill, session)
                if order.side is OrderSide.BUY:
                    await books_service.do_spend_held(
                        session, hold_key(update.order_id), posting.cash
                    )
                inc = {"filled_quantity": update.fill_quantity,
                       "filled_value": update.fill_quantity * update.fill_price,
                       "fees": update.fee}  # fmt: skip
                filled = order.filled_quantity + update.fill_quantity
                if STATUS_RANK[order.status] < 4:
                    fields["status"] = (OrderStatus.FILLED if filled >= (order.quantity or 0)
                                        else OrderStatus.PARTIALLY_FILLED).value  # fmt: skip
            else:
                target = OrderStatus(update.status)
                if STATUS_RANK[target] <= STATUS_RANK[order.status]:
                    return Applied(None)  # repeated or overtaken by a later report
                if target is OrderStatus.FILLED:
                    return Applied(None)  # only fills make an order filled
                fields["status"] = target.value
                if update.reason:
                    fields["reason"] = update.reason
                if STATUS_RANK[target] == 4:
                    fields["final_quantity"] = update.cumulative_quantity
            if "status" in fields and STATUS_RANK[OrderStatus(str(fields["status"]))] == 4:
                fields["reserved"] = 0  # final: nothing is set aside for it any more
            guard = {"filled_quantity": order.filled_quantity, "status": order.status.value}
            if not await repository.update_order(order.id, fields, session, guard, inc):
                return Applied(None)
            if inc:
                order.filled_quantity += inc["filled_quantity"]
                order.filled_value += inc["filled_value"]
                order.fees += inc["fees"]
            if "status" in fields:
                order.status = OrderStatus(str(fields["status"]))
            if "reserved" in fields:
                order.reserved = 0
            order.reason = str(fields.get("reason", order.reason))
            order.updated_at = now
            if "final_quantity" in fields:
                order.final_quantity = update.cumulative_quantity
            # Final: what a buy did not spend is free — once the fills the broker's last report
            # counted are booked (they may arrive after it, and must find their cash held).
            if STATUS_RANK[order.status] == 4 and \
                    order.filled_quantity >= (order.final_quantity or 0):  # fmt: skip
                await books_service.do_release_hold(session, hold_key(update.order_id))
            await events.room_event(
                session, room, ORDER_UPDATED, OrderUpdatedEvent, club_id=order.club_id,
                order=OrderOut.of(order), fill=FillOut.of(fill) if fill else None,
            )  # fmt: skip
            if fill is not None:
                await events.after_commit(functools.partial(emit_nav_after_fill, order.club_id))
            return Applied(order, fill)

        return await run_in_transaction(body)

    async def charges_unsettled(self, broker: str, since: dt.datetime) -> list[Order]:
        """``broker``'s orders that ended with fills since ``since``, their contract note not
        read yet (the brokers' daily settlement of charges)."""
        return await repository.charges_unsettled(broker, since)

    async def do_settle_charges(self, order_id: str, charges: dict[str, int], source: str
                                ) -> Order | None:  # fmt: skip
        """Take the broker's contract note for a finished order: ``charges`` by name (minor
        units of the order's currency, which is the club's: Kite trades INR only). Their total
        becomes the order's fees; what it differs from the fees its fills were booked with is
        booked once (Dr/Cr trading costs, Cr/Dr cash: ``books.post_charges_adjustment``),
        audited, and told to the room. None when the order is not finished with fills, or was
        settled already (a second reading changes nothing)."""
        order = await repository.get_order(order_id)
        if order is None:
            return None
        room = club_room(order.club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Order | None:
            await club_service.do_bump_money_seq(order.club_id, session)
            current = await repository.get_order(order_id, session)
            if current is None or current.contract_charges is not None:
                return None  # settled already
            if STATUS_RANK[current.status] < 4 or current.filled_quantity == 0:
                return None
            total = sum(charges.values())
            delta = total - current.fees
            await books_service.post_charges_adjustment(
                session, current.club_id, key=f"charges:{order_id}", amount=delta,
                memo=f"{source} contract note of order {order_id}: charges {format_minor(total)}"
                     f" against {format_minor(current.fees)} booked with its fills",
                actor_id=current.submitted_by,
            )  # fmt: skip
            now = utcnow()
            fields = {"contract_charges": charges, "charges_adjustment": delta, "fees": total,
                      "updated_at": now}  # fmt: skip
            if not await repository.update_order(current.id, fields, session,
                                                 {"contract_charges": None}):  # fmt: skip
                return None
            current.contract_charges, current.charges_adjustment = charges, delta
            current.fees, current.updated_at = total, now
            await audit_service.do_append(
                chain=club_chain(current.club_id), actor_id=None,
                action="order.charges_settled", target_type="order", target_id=order_id,
                details={"source": source, "charges": charges, "adjustment": delta},
                session=session,
            )  # fmt: skip
            await events.room_event(
                session, room, ORDER_UPDATED, OrderUpdatedEvent, club_id=current.club_id,
                order=OrderOut.of(current),
            )  # fmt: skip
            return current

        return await run_in_transaction(body)


def booking_day(order: Order, reported: str) -> dt.date:
    """The day a fill of ``order`` is booked on: the ``reported`` trade date (ISO), but never
    before the day the order went to the broker (UTC; its creation day if it never did). A
    replayed market reports the historical day of its prices, and a broker's unreadable or
    missing date is taken as today: booked as reported, a purchase would spend cash on a day
    the club did not have it yet and put the position before its own order. The exchange rate
    stays the one of the price's day (``price_day``)."""
    placed = order.submitted_at or order.created_at
    if placed.tzinfo is None:
        placed = placed.replace(tzinfo=dt.UTC)
    floor = placed.astimezone(dt.UTC).date()
    try:
        day = dt.date.fromisoformat(reported)
    except ValueError:
        day = utcnow().date()
    return max(day, floor)


def price_day(reported: str, booked: dt.date) -> dt.date:
    """The day a fill's price is of, for its exchange rate: the ``reported`` trade date (a
    replayed market's historical day, the rate its buy was held at), else the ``booked`` day."""
    try:
        return min(dt.date.fromisoformat(reported), booked)
    except ValueError:
        return booked


order_service = OrderService()
# A manual trade (app/books) must not sell shares an open sell order still has to sell.
books_service.on_shares_for_sale(repository.shares_for_sale)
