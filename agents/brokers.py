"""Linked brokers' updates (app/brokers): the poll of open orders (recovers a dropped postback
or stream event, re-sends orders a broker could not take), each Alpaca account's
``trade_updates`` stream, and the daily comparison of holdings with the broker's positions.
Everything found goes to the order-fills topic, reconciled by ``reconcile_orders`` like the
paper broker's updates. Thin: the rules are in ``broker_service``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from typing import Any

from agents.context import worker_context
from app.brokers.alpaca import ReconnectBackoff
from app.brokers.alpaca import listen as alpaca_listen
from app.brokers.documents import BrokerLink
from app.brokers.service import broker_service
from app.config import get_settings
from app.logging import get_logger
from app.orders.broker import BrokerLoginRequired
from streams.app import app, order_fills
from streams.records import BrokerUpdateV1

log = get_logger(__name__)


async def _send(updates: list[BrokerUpdateV1]) -> None:
    for item in updates:  # keyed by club: one club's updates stay in order
        await (await order_fills.send(key=item.club_id, value=item))


@app.timer(interval=get_settings().broker_poll_seconds)
async def poll_linked_brokers() -> None:
    """Read back every open order at a linked broker; re-send those it never took; read the
    contract note of Kite orders that ended."""
    await worker_context()
    resend = dt.timedelta(seconds=get_settings().broker_resend_seconds)
    await _send(await broker_service.do_poll(resend))
    await broker_service.do_settle_charges_due()


@app.crontab("0 13 * * *", timezone=dt.UTC)  # 18:30 IST, after Indian markets settle
async def compare_broker_positions() -> None:
    """Each day: holdings vs the broker's positions, for every linked club (shown, never
    corrected)."""
    await worker_context()
    log.info("broker positions compared", clubs=await broker_service.do_check_all_positions())


class AlpacaStreams:
    """One ``trade_updates`` listener per active Alpaca link, started and stopped as links
    come and go; a dropped connection is opened again at a later look, backing off while it
    keeps failing (``ReconnectBackoff``: 2 s, 4 s, … at most a minute; the poll covers the
    gap)."""

    def __init__(self) -> None:
        self.tasks: dict[str, tuple[str, asyncio.Task[None], asyncio.Event]] = {}
        self.backoff = ReconnectBackoff()

    async def look(self) -> None:
        """Start listeners for new links, stop those of removed or changed ones."""
        wanted = {link.club_id: link for link in await broker_service.alpaca_links()}
        for club_id, (key, task, stop) in list(self.tasks.items()):
            link = wanted.get(club_id)
            if link is None or link.key_enc != key or task.done():
                stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 3)
                del self.tasks[club_id]
                if link is None or link.key_enc != key:
                    self.backoff.forget(club_id)
        now = time.monotonic()
        for club_id, link in wanted.items():
            if club_id not in self.tasks and self.backoff.may_open(club_id, now):
                stop = asyncio.Event()
                task = asyncio.create_task(self._run(link, stop))
                self.tasks[club_id] = (link.key_enc, task, stop)

    async def _run(self, link: BrokerLink, stop: asyncio.Event) -> None:
        async def on_event(data: dict[str, Any]) -> None:
            await _send(await broker_service.stream_updates(link, data))

        api = broker_service.alpaca_api(link)
        started = time.monotonic()
        try:
            await alpaca_listen(api, on_event, stop)
        except BrokerLoginRequired as exc:
            log.warning("alpaca stream refused", club_id=link.club_id, error=str(exc))
        except Exception as exc:  # reconnect at a later look; the poll covers the gap
            log.info("alpaca stream ended", club_id=link.club_id, error=str(exc)[:200])
        finally:
            if not stop.is_set():
                self.backoff.ended(link.club_id, time.monotonic() - started, time.monotonic())


streams = AlpacaStreams()


@app.timer(interval=2.0)
async def alpaca_trade_updates() -> None:
    """Keep one ``trade_updates`` stream open per linked Alpaca account."""
    await worker_context()
    await streams.look()
