"""Broker adapters. The club side (app/orders/service.py) talks to a ``Broker``: it hands over
an ``OrderCommandV1`` (submit or cancel) and later reconciles the ``BrokerUpdateV1`` records the
broker reports on the order-fills topic. A real broker's adapter would call its API here and
turn its execution reports into those records.

The embedded default is the **paper broker**: commands go to the order-commands topic; a worker
agent keeps the broker's own book (``PaperOrder``) and fills it against the live tick stream:

* a market order fills at the first tick emitted after the broker accepted it, at that price
  moved against the order by ``broker_slippage_bps`` (buy up, sell down; half-even to the minor
  unit);
* a limit order fills at a tick whose price is at or better than its limit (buy: price ≤ limit,
  sell: price ≥ limit), at the tick's price — never worse than the limit, no slippage;
* one tick fills at most ``broker_volume_share_bps`` of the shares traded since the previous
  tick (the tick's cumulative day volume minus the last one seen), or — for series without
  volume (the skfolio closes) — ``broker_tick_notional_cap`` ÷ price shares; the rest waits
  for later ticks (partial fills);
* each fill pays ``broker_fee_bps`` of its value, half-even, at least ``broker_fee_min``;
* a buy never spends more than the cash the club reserved for it (``reserved``): when the next
  share no longer fits, the rest is cancelled (``insufficient_cash``; ``rejected`` if nothing
  filled).

Idempotency on the broker side: a fill's id is ``<order>:fill:<tick seq>``, decided from the
book's stored state and written to the book (guarded on the previous state) *before* it is
sent; a re-delivered tick re-sends the fill it produced, and the reconciler applies a fill id
once.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.books.units import BPS
from app.config import Settings
from app.logging import get_logger
from app.market.service import market_service
from app.orders import repository
from app.orders.documents import OrderKind, OrderSide, PaperFill, PaperOrder
from app.realtime.eventlog import iso
from app.symbolcache import SymbolCache
from streams.producer import EventProducer
from streams.records import BrokerUpdateV1, MarketTickV1, OrderCommandV1
from streams.topics import ORDER_COMMANDS

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerCosts:
    """The paper broker's execution rules (settings ``broker_*``): rates in basis points,
    amounts in minor units."""

    slippage_bps: int
    volume_share_bps: int
    tick_notional_cap: int
    fee_bps: int
    fee_min: int

    @classmethod
    def of(cls, settings: Settings) -> BrokerCosts:
        return cls(settings.broker_slippage_bps, settings.broker_volume_share_bps,
                   settings.broker_tick_notional_cap, settings.broker_fee_bps,
                   settings.broker_fee_min)  # fmt: skip

    def fee(self, value: int) -> int:
        """The fee on a fill worth ``value``: ``fee_bps`` half-even, at least ``fee_min``."""
        if value <= 0:
            return 0
        return max(round(Fraction(value * self.fee_bps, BPS)), self.fee_min)

    def market_price(self, price: int, side: OrderSide) -> int:
        """A market order's fill price: ``price`` moved against the order by the slippage."""
        sign = 1 if side is OrderSide.BUY else -1
        return round(Fraction(price * (BPS + sign * self.slippage_bps), BPS))


@dataclass(frozen=True, slots=True)
class FillDecision:
    """What one tick does to one paper order: ``quantity`` shares at ``price`` with ``fee``
    (0 shares: nothing), and ``close_reason`` when the rest can no longer be bought."""

    quantity: int
    price: int
    fee: int
    close_reason: str = ""


def decide_fill(order: PaperOrder, tick: MarketTickV1, costs: BrokerCosts) -> FillDecision:
    """How much of ``order`` the ``tick`` fills, by the rules in this module's docstring.
    Pure: depends only on the book's stored state and the tick."""
    side = OrderSide(order.side)
    if order.kind is OrderKind.MARKET:
        price = costs.market_price(tick.price, side)
    else:
        assert order.limit_price is not None
        crossed = (tick.price <= order.limit_price if side is OrderSide.BUY
                   else tick.price >= order.limit_price)  # fmt: skip
        if not crossed:
            return FillDecision(0, tick.price, 0)
        price = tick.price
    if price <= 0:
        return FillDecision(0, price, 0)
    if tick.volume is None:
        cap = costs.tick_notional_cap // price
    else:
        before = order.seen_volume if order.seen_date == tick.trade_date else 0
        traded = max(tick.volume - (before or 0), 0)
        cap = traded * costs.volume_share_bps // BPS
    quantity = min(order.quantity - order.filled, cap)
    if quantity <= 0:
        return FillDecision(0, price, 0)
    if side is OrderSide.BUY:
        budget = order.reserved - order.spent
        quantity = min(quantity, max(budget, 0) // price)
        while quantity > 0 and quantity * price + costs.fee(quantity * price) > budget:
            quantity -= 1
        if quantity == 0:
            return FillDecision(0, price, 0, close_reason="insufficient_cash")
    return FillDecision(quantity, price, costs.fee(quantity * price))


class BrokerError(Exception):
    """A broker adapter could not do what was asked (base of the three below)."""


class BrokerUnavailable(BrokerError):
    """The broker did not answer, or answered that it cannot work now (outage, 5xx, timeout):
    the order is kept and handed over again later."""


class BrokerLoginRequired(BrokerUnavailable):
    """The broker refused the club's session (Kite's access token expires every morning): the
    treasurer must log in again; the order is handed over again after that."""


class BrokerRejected(BrokerError):
    """The broker refused the order itself (bad symbol, no funds, …); ``reason`` is the
    broker's own words, shown to the treasurer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Broker(Protocol):
    """What the orders service needs from a broker: take a command (submit or cancel). Its
    reports come back as ``BrokerUpdateV1`` on the order-fills topic."""

    name: str

    async def send(self, command: OrderCommandV1) -> str | None:
        """Hand ``command`` to the broker; return the broker's own order id when it gives one
        (a real broker, on submit). Raises ``BrokerUnavailable`` / ``BrokerLoginRequired`` /
        ``BrokerRejected`` (real brokers) or anything else if it could not be handed over."""
        ...


class PaperBroker:
    """The embedded paper broker's adapter: commands go to the order-commands topic (keyed by
    club), where ``PaperEngine`` (a worker agent) takes them."""

    name = "paper"

    def __init__(self, producer: EventProducer) -> None:
        self._producer = producer

    async def send(self, command: OrderCommandV1) -> str | None:
        """Put ``command`` on the order-commands topic (the paper engine has no order id)."""
        await self._producer.send(ORDER_COMMANDS, command.club_id, command)
        return None


def _now() -> str:
    return iso(dt.datetime.now(dt.UTC))


def update(order_id: str, club_id: str, status: str, *, suffix: str | None = None,
           fill: PaperFill | None = None, cumulative: int = 0, reason: str = "",
           ) -> BrokerUpdateV1:  # fmt: skip
    """A broker report about ``order_id``."""
    return BrokerUpdateV1(
        id=f"{order_id}:{suffix or status}", order_id=order_id, club_id=club_id, status=status,
        fill_id=fill.fill_id if fill else None, fill_quantity=fill.quantity if fill else 0,
        fill_price=fill.price if fill else 0, fee=fill.fee if fill else 0,
        cumulative_quantity=fill.cumulative if fill else cumulative, reason=reason,
        trade_date=fill.trade_date if fill else "", tick_seq=fill.tick_seq if fill else 0,
        occurred_at=_now(),
    )  # fmt: skip


BOOK_MAX_AGE = 30.0
"""Seconds a symbol's in-memory book is used at most without a load (a backstop: an order
entering or leaving the book writes a new version token, seen at the next tick)."""


@dataclass(slots=True)
class _Book:
    """A symbol's open paper orders as loaded, and the highest tick ``seq`` the stored book had
    seen then (a tick at or below it may have been applied already)."""

    orders: list[PaperOrder]
    high_water: int


class PaperEngine:
    """The paper broker's matching side (runs in the worker): keeps its book in
    ``paper_orders`` and turns commands and ticks into broker updates to send.

    Each symbol's open orders are kept in memory (``app/symbolcache.py``): a tick reads one
    Redis version token, not the database; a command that puts an order on the book or takes
    one off or changes its terms writes a new token, so the next tick sees the change. Every
    write is guarded on the state read, terms included (``move_paper_order``): a failed guard
    means the copy was stale (another worker had the partition, a token write was lost), and
    the order is looked at again as stored. A tick that may
    have been applied already (at or below the highest ``seq`` the book has seen) is matched
    against the book as stored, so a re-delivered tick re-sends the fills it made. A tick that
    changes nothing but ``last_tick_seq`` (no fill, the same volume seen) is not written."""

    def __init__(self, costs: BrokerCosts, redis: Redis) -> None:
        self.costs = costs
        self.redis = redis
        self._books = SymbolCache(self._load, self._versions, max_age=BOOK_MAX_AGE)
        self._seen: dict[str, int] = {}

    @property
    def loads(self) -> int:
        """How many times the engine read a symbol's book from the database."""
        return self._books.loads

    @staticmethod
    async def _load(symbol: str) -> _Book:
        high = await repository.paper_high_water(symbol)
        orders = await repository.open_paper_orders(symbol)
        return _Book(orders, max([high, *(o.last_tick_seq for o in orders)]))

    async def _versions(self, symbols: list[str]) -> list[object]:
        return await repository.paper_book_versions(self.redis, symbols)

    async def _touch(self, symbol: str) -> None:
        try:
            await repository.touch_paper_book_version(self.redis, symbol)
        except (RedisError, OSError) as exc:  # seen within BOOK_MAX_AGE instead
            log.warning("paper book version not written", symbol=symbol, error=str(exc))

    async def on_command(self, command: OrderCommandV1) -> list[BrokerUpdateV1]:
        """Accept (or reject) a submitted order, change an open one (``modify``: its new
        quantity and limit price, never below what filled), or cancel what is left of one. A
        repeated command re-sends the same answer."""
        if command.action == "cancel":
            return await self._cancel(command)
        if command.action == "modify":
            await repository.modify_paper_order(
                command.order_id,
                command.quantity,
                command.limit_price,
                command.reserved if command.side == OrderSide.BUY.value else None,
            )
            await self._touch(command.symbol)  # the tick engines take the new terms
            return []  # the club's order changed already; fills follow the new terms
        instrument = None
        try:
            instrument = await market_service.instrument(command.symbol)
        except Exception:  # unknown symbol: rejected below
            instrument = None
        if instrument is None or instrument.currency != command.currency:
            reason = "unknown_symbol" if instrument is None else "currency_mismatch"
            return [update(command.order_id, command.club_id, "rejected", reason=reason)]
        latest = await market_service.latest_quotes(self.redis, [command.symbol])
        book = PaperOrder(
            order_id=command.order_id, club_id=command.club_id, side=OrderSide(command.side),
            kind=OrderKind(command.kind), symbol=command.symbol, quantity=command.quantity,
            limit_price=command.limit_price, reserved=command.reserved,
            after_seq=time.time_ns() // 1000,
            seen_volume=latest[0].volume if latest else None,
            seen_date=latest[0].trade_date if latest else "",
        )  # fmt: skip
        inserted = await repository.insert_paper_order(book)
        await self._touch(command.symbol)  # before "accepted": the next tick sees the order
        if not inserted:  # a re-delivered submit: as before
            stored = await repository.paper_order(command.order_id)
            if stored is None or not stored.open:
                return []
        return [update(command.order_id, command.club_id, "accepted")]

    async def _cancel(self, command: OrderCommandV1) -> list[BrokerUpdateV1]:
        """Take the order off the book. A tick may fill it meanwhile (ticks and commands are
        handled side by side): whatever filled before the close stays filled and the cancel
        reports that much (``cumulative``); an order filled in full, or closed for another
        reason, before the close is not cancelled at all (its own update said so)."""
        book = await repository.paper_order(command.order_id)
        if book is None:
            return [update(command.order_id, command.club_id, "cancelled",
                           reason="cancelled_by_user")]  # fmt: skip
        closed = await repository.close_paper_order(book)
        await self._touch(book.symbol)
        current = await repository.paper_order(command.order_id) or book
        if not closed and (current.filled >= current.quantity or current.closed_reason):
            return []  # filled, or closed by the market, before the cancel arrived
        return [update(command.order_id, command.club_id, "cancelled",
                       cumulative=current.filled, reason="cancelled_by_user")]  # fmt: skip

    async def on_tick(self, tick: MarketTickV1) -> list[BrokerUpdateV1]:
        """Match ``tick`` against the book's open orders of its symbol; return the fills (and
        closures) to send, already recorded in the book."""
        return await self.on_ticks([tick])

    async def on_ticks(self, ticks: list[MarketTickV1]) -> list[BrokerUpdateV1]:
        """``on_tick`` for each of ``ticks`` in order, with one read of the version tokens of
        their symbols; the updates of all of them, in order."""
        await self._books.get_many(list(dict.fromkeys(t.symbol for t in ticks)))
        out: list[BrokerUpdateV1] = []
        for tick in ticks:
            book = self._books.held(tick.symbol)  # None: forgotten by an earlier tick
            out.extend(await self._on_tick(tick, book or await self._books.get(tick.symbol)))
        return out

    async def _on_tick(self, tick: MarketTickV1, book: _Book) -> list[BrokerUpdateV1]:
        symbol = tick.symbol
        seen = max(book.high_water, self._seen.get(symbol, 0))
        self._seen[symbol] = max(seen, tick.seq)
        if tick.seq <= seen:  # maybe applied already: as stored
            stored = await repository.paper_orders_for_tick(symbol, tick.seq)
            out, _, wrote = await self._match(tick, stored)
            if wrote:  # the copy no longer matches the book
                self._books.forget(symbol)
            return out
        out, stale, _ = await self._match(tick, book.orders)
        if stale:  # the copy was behind the book: those orders again, as stored now
            self._books.forget(symbol)
            fresh = [await repository.paper_order(o.order_id) for o in stale]
            again, _, _ = await self._match(tick, [o for o in fresh if o is not None])
            out.extend(again)
        return out

    async def _match(self, tick: MarketTickV1, books: list[PaperOrder],
                     ) -> tuple[list[BrokerUpdateV1], list[PaperOrder], bool]:  # fmt: skip
        """Apply ``tick`` to ``books`` (the in-memory copy or as just read; each order is kept
        equal to what was stored). Returns the updates to send, the orders whose guarded write
        failed, and whether anything was written."""
        out: list[BrokerUpdateV1] = []
        failed: list[PaperOrder] = []
        wrote = False
        volume_seen: list[tuple[PaperOrder, dict[str, object]]] = []
        for book in books:
            if tick.seq <= book.last_tick_seq:  # re-delivered: re-send what it did then
                out.extend(self._resend(book, tick.seq))
                continue
            if not book.open or tick.seq <= book.after_seq:
                continue
            decision = decide_fill(book, tick, self.costs)
            changes: dict[str, object] = {
                "last_tick_seq": tick.seq, "seen_volume": tick.volume,
                "seen_date": tick.trade_date,
            }  # fmt: skip
            push = None
            fill = None
            if decision.quantity:
                cumulative = book.filled + decision.quantity
                fill = PaperFill(
                    fill_id=f"{book.order_id}:fill:{tick.seq}", tick_seq=tick.seq,
                    quantity=decision.quantity, price=decision.price, fee=decision.fee,
                    cumulative=cumulative, trade_date=tick.trade_date,
                    done=cumulative >= book.quantity,
                )  # fmt: skip
                spent = decision.quantity * decision.price + decision.fee
                changes.update(filled=cumulative, spent=book.spent + spent,
                               open=cumulative < book.quantity)  # fmt: skip
                push = {"fills": fill.model_dump()}
            elif decision.close_reason:
                changes.update(open=False, closed_reason=decision.close_reason)
            else:  # remember the volume seen (nothing to write when it did not change)
                if (book.seen_volume, book.seen_date) != (tick.volume, tick.trade_date):
                    volume_seen.append((book, changes))
                continue
            if not await repository.move_paper_order(book, changes, push):
                failed.append(book)  # cancelled or handled meanwhile
                continue
            _apply(book, changes, fill)
            wrote = True
            if fill is not None:
                status = "filled" if fill.done else "partially_filled"
                out.append(update(book.order_id, book.club_id, status,
                                  suffix=f"fill:{tick.seq}", fill=fill))  # fmt: skip
            else:
                status = "cancelled" if book.filled else "rejected"
                out.append(update(book.order_id, book.club_id, status, cumulative=book.filled,
                                  reason=decision.close_reason))  # fmt: skip
        if volume_seen:
            wrote = True
            if await repository.move_paper_orders(volume_seen) == len(volume_seen):
                for book, changes in volume_seen:
                    _apply(book, changes, None)
            else:
                self._books.forget(tick.symbol)  # some changed elsewhere: load them again
        return out, failed, wrote

    @staticmethod
    def _resend(book: PaperOrder, tick_seq: int) -> list[BrokerUpdateV1]:
        return [
            update(book.order_id, book.club_id, "filled" if f.done else "partially_filled",
                   suffix=f"fill:{f.tick_seq}", fill=f)
            for f in book.fills if f.tick_seq == tick_seq
        ]  # fmt: skip


def _apply(book: PaperOrder, changes: dict[str, object], fill: PaperFill | None) -> None:
    """Mirror a stored change in the in-memory copy of the order."""
    for name, value in changes.items():
        setattr(book, name, value)
    if fill is not None:
        book.fills.append(fill)
