"""The live portfolio of a club: positions at the latest quotes, NAV and unit value, and the
throttled ``portfolio:nav`` that keeps a club room's figures current.

NAV = cash + Σ quantity × latest price − liabilities (docs/domain.md, unit-value accounting), from
the journal's cash and liabilities, the average-cost holdings, and the latest quotes in the
Redis cache (a holding without a quote yet is valued at its book cost). The unit value is
NAV ÷ units, exact; shown with 4 places, half-even.

A holding quoted in another currency is worth quantity × last price converted once, half-even,
at the ECB rate of the quote's trading day (the replay date of live ticks; app/fx.py). Its
unrealised gain splits into the price gain — (foreign market value − foreign cost) at that rate
— and the FX gain, the rest (the cost was booked at each buy's own rate).
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession
from redis.asyncio import Redis

from app.books.documents import Holding
from app.books.schemas import LivePositionOut, PortfolioNavEvent, PortfolioOut
from app.books.service import books_service, rate_for
from app.books.units import UnitValue, format_units, share_display
from app.clubs.documents import Club
from app.clubs.errors import ClubNotFound
from app.clubs.service import club_service
from app.config import get_settings
from app.extensions import services
from app.fx import FxRate
from app.logging import get_logger
from app.market.service import market_service
from app.money import format_minor, parse_minor, round_ratio
from app.realtime import events
from app.realtime.eventlog import iso
from app.realtime.rooms import club_room

log = get_logger(__name__)

PORTFOLIO_NAV = "portfolio:nav"


@dataclass(frozen=True, slots=True)
class Position:
    """A holding priced: ``last_price`` None when no quote is cached (valued at cost);
    ``fx`` the rate of an instrument in another currency (``last_price`` is in its units)."""

    holding: Holding
    last_price: int | None
    fx: FxRate | None = None

    @property
    def market_value(self) -> int:
        """In the club's minor units."""
        if self.last_price is None:
            return self.holding.cost
        foreign = self.holding.quantity * self.last_price
        return self.fx.convert(foreign) if self.fx else foreign

    @property
    def price_gain(self) -> int | None:
        """Of a foreign holding: (foreign market value − foreign cost) at today's rate."""
        if self.fx is None or self.last_price is None:
            return None
        return self.fx.convert(self.holding.quantity * self.last_price - self.holding.cost_foreign)


@dataclass(frozen=True, slots=True)
class Portfolio:
    """A club's books priced now (minor units; units in micro-units)."""

    club: Club
    cash: int
    liabilities: int
    units: int
    positions: list[Position]
    at: dt.datetime
    realised: int = 0  # every holding's, those sold in full included

    @property
    def market_value(self) -> int:
        return sum(p.market_value for p in self.positions)

    @property
    def nav(self) -> int:
        return self.cash + self.market_value - self.liabilities

    @property
    def unit_value(self) -> UnitValue:
        return books_service.unit_value(self.club, self.nav, self.units)


async def snapshot(club_id: str, redis: Redis,
                   session: AsyncClientSession | None = None) -> Portfolio:  # fmt: skip
    """The club's portfolio at the latest quotes. Raises ``ClubNotFound``."""
    club = await club_service.get(club_id, session)
    if club is None:
        raise ClubNotFound("no such club")
    books = await books_service.books(club_id, session)
    held = [h for h in books.holdings if h.quantity > 0]
    latest = await market_service.latest_quotes(redis, [h.symbol for h in held])
    quotes = {q.symbol: parse_minor(q.price) for q in latest}
    days = {q.symbol: dt.date.fromisoformat(q.trade_date) for q in latest if q.trade_date}
    today = dt.datetime.now(dt.UTC).date()
    positions = []
    for h in sorted(held, key=lambda h: h.symbol):
        fx = await rate_for(h.currency, club.currency, min(days.get(h.symbol, today), today))
        positions.append(Position(h, quotes.get(h.symbol), fx))
    return Portfolio(
        club=club, cash=books.cash, liabilities=books.liabilities, units=books.units,
        positions=positions, at=dt.datetime.now(dt.UTC),
        realised=await books_service.realised(club_id, session),
    )  # fmt: skip


async def live(club_id: str, actor_id: str) -> PortfolioOut:
    """The club's portfolio at the latest quotes, for a member. Raises ``ClubNotFound``."""
    await club_service.check_member(club_id, actor_id)
    return portfolio_out(await snapshot(club_id, services.require_redis()))


def portfolio_out(p: Portfolio) -> PortfolioOut:
    """The API shape of ``p``."""
    assets = p.cash + p.market_value
    positions = [
        LivePositionOut(
            symbol=x.holding.symbol, quantity=x.holding.quantity,
            average_price=(format_minor(round_ratio(x.holding.cost, x.holding.quantity))
                           if x.holding.quantity else None),
            cost=format_minor(x.holding.cost),
            last_price=(None if x.last_price is None  # in the club's currency
                        else format_minor(x.fx.convert(x.last_price) if x.fx else x.last_price)),
            market_value=format_minor(x.market_value),
            unrealised=format_minor(x.market_value - x.holding.cost),
            realised=format_minor(x.holding.realised),
            allocation_pct=share_display(x.market_value, assets),
            **_foreign_fields(x),
        )
        for x in p.positions
    ]  # fmt: skip
    return PortfolioOut(
        club_id=str(p.club.id), currency=p.club.currency, cash=format_minor(p.cash),
        cash_allocation_pct=share_display(p.cash, assets),
        market_value=format_minor(p.market_value), liabilities=format_minor(p.liabilities),
        nav=format_minor(p.nav), units=format_units(p.units),
        unit_value=p.unit_value.display(),
        realised=format_minor(p.realised),
        unrealised=format_minor(sum(x.market_value - x.holding.cost for x in p.positions)),
        positions=positions, as_of=iso(p.at),
    )  # fmt: skip


def _foreign_fields(x: Position) -> dict[str, str | None]:
    """The other-currency columns of a position (none for the club's own currency)."""
    if x.fx is None:
        return {}
    price_gain = x.price_gain
    return {
        "currency": x.fx.base, "rate": x.fx.text(), "rate_date": x.fx.rate_date.isoformat(),
        "last_price_foreign": None if x.last_price is None else format_minor(x.last_price),
        "average_price_foreign": (format_minor(round_ratio(x.holding.cost_foreign,
                                                           x.holding.quantity))
                                  if x.holding.quantity else None),
        "price_gain": None if price_gain is None else format_minor(price_gain),
        "fx_gain": (None if price_gain is None
                    else format_minor(x.market_value - x.holding.cost - price_gain)),
    }  # fmt: skip


def nav_event(p: Portfolio, reason: str) -> PortfolioNavEvent:
    """The ``portfolio:nav`` payload of ``p``."""
    return PortfolioNavEvent(
        id=f"{p.club.id}:nav:{time.time_ns()}", ts=iso(p.at), club_id=str(p.club.id),
        currency=p.club.currency, cash=format_minor(p.cash),
        market_value=format_minor(p.market_value), liabilities=format_minor(p.liabilities),
        nav=format_minor(p.nav), units=format_units(p.units),
        unit_value=p.unit_value.display(), reason=reason,
    )  # fmt: skip


async def emit_nav(club_id: str, reason: str) -> None:
    """Recompute the club's NAV now and send ``portfolio:nav`` to its room (state, not
    history: the latest wins and a joining client fetches ``/portfolio``). A club whose NAV
    cannot be computed — units outstanding with NAV ≤ 0 — is logged."""
    try:
        event = nav_event(await snapshot(club_id, services.require_redis()), reason)
    except Exception as exc:
        log.warning("nav not computed", club_id=club_id, error=str(exc))
        return
    await events.send(club_room(club_id), PORTFOLIO_NAV, event)


async def emit_nav_after_fill(club_id: str) -> None:
    """``portfolio:nav`` after a fill was booked (an after-commit action of the orders)."""
    await emit_nav(club_id, "fill")


class NavThrottle:
    """At most one NAV recomputation per club per ``interval`` seconds, the latest state wins:
    an offer inside the window schedules one emission at its end (so the last price of a burst
    is always shown). The market agent offers a tick after caching its quote, so an emission
    reads a quote at least as new; ``settle`` seconds gather the ticks of a burst first."""

    def __init__(self, interval: float, emit: Callable[[str], Awaitable[None]],
                 settle: float = 0.2) -> None:  # fmt: skip
        self.interval = interval
        self.settle = settle
        self._emit = emit
        self._last: dict[str, float] = {}
        self._pending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def offer(self, club_id: str) -> None:
        """Ask for the club's NAV to be sent (now-ish, or at the end of its window)."""
        if club_id in self._pending:
            return
        self._pending.add(club_id)
        due = self._last.get(club_id, -math.inf) + self.interval
        delay = max(self.settle, due - time.monotonic())
        task = asyncio.get_running_loop().create_task(
            self._later(club_id, delay), context=contextvars.Context()
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _later(self, club_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        self._pending.discard(club_id)
        self._last[club_id] = time.monotonic()
        try:
            await self._emit(club_id)
        except Exception as exc:  # pragma: no cover - logged, the next tick tries again
            log.error("nav emission failed", club_id=club_id, error=str(exc))


class NavTicker:
    """Price ticks → throttled ``portfolio:nav`` of every club holding or watching the symbol
    (one per process, created inside the running loop on first use)."""

    def __init__(self) -> None:
        self._throttle: NavThrottle | None = None

    def offer_tick(self, club_ids: list[str]) -> None:
        """Ask for a NAV update of each of ``club_ids`` (the clubs watching or holding a
        symbol that has just ticked, as ``market_service.do_record_tick`` answered). Must be
        called inside the running loop."""
        if self._throttle is None:
            interval = get_settings().portfolio_nav_interval_ms / 1000
            self._throttle = NavThrottle(interval, self._emit)
        for club_id in club_ids:
            self._throttle.offer(club_id)

    @staticmethod
    async def _emit(club_id: str) -> None:
        await emit_nav(club_id, "tick")


nav_ticker = NavTicker()
