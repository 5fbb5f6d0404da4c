"""Order agents: the paper broker (commands → its book; ticks → fills) and the reconciler
(broker updates → the club's orders, ledger and room). The paper broker's tick side is a step
of the tick agent (agents/market.py, the one consumer of the tick topic), as is the NAV on
ticks, offered after the quote is cached."""

from __future__ import annotations

import datetime as dt
from typing import Any

from redis.asyncio import Redis

from agents.context import worker_context
from app.config import get_settings
from app.errors import AppError
from app.logging import get_logger
from app.orders.broker import BrokerCosts, PaperEngine
from app.orders.service import order_service
from streams.app import app, order_commands, order_fills
from streams.records import BrokerUpdateV1, MarketTickV1, OrderCommandV1

log = get_logger(__name__)


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


class PaperTicks:
    """The paper broker's step of the tick agent: each batch of ticks, in order, fills what
    it can on the book (the fills go to the reconciler, each acknowledged by Kafka before the
    batch is). One per tick agent."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._engine = self._fresh()

    def _fresh(self) -> PaperEngine:
        return PaperEngine(BrokerCosts.of(get_settings()), self._redis)

    async def __call__(self, batch: list[MarketTickV1]) -> None:
        """Match ``batch`` against the book and send the fills. Raises what the engine or
        Kafka raises; the engine is then replaced by a fresh one (its copies and the seqs it
        has seen are read again from the book, as a restarted agent's were)."""
        try:
            await _send(await self._engine.on_ticks(batch))
        except Exception:
            self._engine = self._fresh()
            raise


@app.agent(order_fills)
async def reconcile_orders(updates: Any) -> None:
    """Apply each broker update to the club's order and books, idempotently (``order:updated``
    and, after a fill, ``portfolio:nav`` go out after its commit)."""
    await worker_context()
    update: BrokerUpdateV1
    async for update in updates:
        try:
            await order_service.do_apply_broker_update(update)
        except AppError as exc:  # the books cannot take it: keep it visible, keep going
            log.error("broker update not applied", update_id=update.id, code=exc.code,
                      error=exc.message, details=exc.details)  # fmt: skip
