"""Order agents: the paper broker (commands → its book; ticks → fills) and the reconciler
(broker updates → the club's orders, ledger and room), plus the throttled NAV on ticks."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from agents.context import worker_context
from app.clubs.service import club_service
from app.config import get_settings
from app.errors import AppError
from app.logging import get_logger
from app.market.service import market_service
from app.orders import portfolio
from app.orders.broker import BrokerCosts, PaperEngine
from app.orders.service import order_service
from app.realtime import publish
from streams.app import app, market_ticks, order_commands, order_fills
from streams.records import BrokerUpdateV1, MarketTickV1, OrderCommandV1

log = get_logger(__name__)

HOLDERS_TTL_SECONDS = 2.0


async def _send(updates: list[BrokerUpdateV1]) -> None:
    for item in updates:  # wait for the broker's acknowledgement of each (at least once)
        await (await order_fills.send(key=item.club_id, value=item))


RESUBMIT_AFTER = dt.timedelta(seconds=30)


@app.timer(interval=15.0)
async def resubmit_stale_orders() -> None:
    """Hand the broker again any order left ``submitted`` without an answer (see
    ``order_service.stale_submissions``)."""
    await worker_context()
    for command in await order_service.stale_submissions(RESUBMIT_AFTER):
        log.warning("re-sending a submitted order", order_id=command.order_id)
        await order_commands.send(key=command.club_id, value=command)


@app.agent(order_commands)
async def paper_broker_commands(commands: Any) -> None:
    """The paper broker takes submit/cancel commands (keyed by club) into its book."""
    context = await worker_context()
    engine = PaperEngine(BrokerCosts.of(get_settings()), context.redis)
    command: OrderCommandV1
    async for command in commands:
        await _send(await engine.on_command(command))


@app.agent(market_ticks)
async def paper_broker_ticks(ticks: Any) -> None:
    """Each tick: the paper broker fills what it can, and clubs holding (or watching) the
    symbol get their NAV recomputed, at most once per interval per club."""
    context = await worker_context()
    settings = get_settings()
    engine = PaperEngine(BrokerCosts.of(settings), context.redis)

    async def emit(club_id: str) -> None:
        await portfolio.emit_nav(club_id, context.redis, "tick")

    throttle = portfolio.NavThrottle(settings.portfolio_nav_interval_ms / 1000, emit)
    holders: dict[str, tuple[float, list[str]]] = {}
    tick: MarketTickV1
    async for tick in ticks:
        await _send(await engine.on_tick(tick))
        cached = holders.get(tick.symbol)
        if cached is None or time.monotonic() - cached[0] > HOLDERS_TTL_SECONDS:
            clubs = await market_service.watching_clubs(context.redis, tick.symbol)
            cached = holders[tick.symbol] = (time.monotonic(), clubs)
        for club_id in cached[1]:
            throttle.offer(club_id)


@app.agent(order_fills)
async def reconcile_orders(updates: Any) -> None:
    """Apply each broker update to the club's order and books (idempotently), emit
    ``order:updated`` (stored first) and, after a fill, ``portfolio:nav``."""
    context = await worker_context()
    update: BrokerUpdateV1
    async for update in updates:
        try:
            applied = await order_service.do_apply_broker_update(update)
        except AppError as exc:  # the books cannot take it: keep it visible, keep going
            log.error("broker update not applied", update_id=update.id, code=exc.code,
                      error=exc.message, details=exc.details)  # fmt: skip
            continue
        await publish.publish(applied.events)
        if applied.fill is not None:
            symbols = await club_service.club_symbols(update.club_id)
            await market_service.do_sync_club_symbols(context.redis, update.club_id, symbols)
            await portfolio.emit_nav(update.club_id, context.redis, "fill")
