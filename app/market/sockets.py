"""Socket.IO handlers of the market domain: ``quote:subscribe`` and ``quote:unsubscribe``.

Acknowledgements: ``{"ok": true, "symbols": [...]}`` or ``{"ok": false, "error": {…}}`` (the
HTTP error shape). With ``"batch": true`` the socket takes its quotes as ``quote:batch``
(app/realtime/fanout.py). After a successful subscribe the socket receives each symbol's cached
quote as a ``quote:tick`` (sent after the acknowledgement), then every new tick.
"""

from __future__ import annotations

from typing import Any

import socketio

from app.errors import AppError
from app.extensions import services
from app.market.schemas import QuoteSubscription
from app.market.service import QUOTE_TICK_EVENT, market_service
from app.realtime import events
from app.realtime.fanout import QUOTE_BATCH_ROOM
from app.realtime.handlers import socket_handler
from app.realtime.rooms import symbol_room


def register(sio: socketio.AsyncServer) -> None:
    """Attach the market events to ``sio``."""

    @sio.on("quote:subscribe")
    @socket_handler(QuoteSubscription)
    async def subscribe(sid: str, request: QuoteSubscription) -> dict[str, Any]:
        symbols = await market_service.check_symbols(request.symbols)
        for symbol in symbols:
            await sio.enter_room(sid, symbol_room(symbol))
        if request.batch:
            await sio.enter_room(sid, QUOTE_BATCH_ROOM)
        sio.start_background_task(_send_snapshot, sio, sid, symbols)
        return {"ok": True, "symbols": symbols}

    @sio.on("quote:unsubscribe")
    @socket_handler(QuoteSubscription)
    async def unsubscribe(sid: str, request: QuoteSubscription) -> dict[str, Any]:
        await market_service.check_symbols(request.symbols)
        for symbol in request.symbols:
            await sio.leave_room(sid, symbol_room(symbol))
        return {"ok": True, "symbols": request.symbols}


async def _send_snapshot(sio: socketio.AsyncServer, sid: str, symbols: list[str]) -> None:
    try:
        quotes = await market_service.latest_quotes(services.require_redis(), symbols)
    except AppError:
        return
    for quote in quotes:
        # An unsubscribe may have come in meanwhile: send only what is still wanted.
        if symbol_room(quote.symbol) in sio.rooms(sid):
            await events.send(sid, QUOTE_TICK_EVENT, quote)
