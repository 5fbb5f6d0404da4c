"""Price alerts: what members set up (HTTP) and how ticks trigger them (the alerts agent).

A firing is one transaction: the alert's rule state moves (guarded on its previous
``last_seq``, so a re-delivered tick or a second worker cannot fire it twice), the firing is
stored, and ``alert:triggered`` is appended to the club room's event log; it is emitted after
the commit, and a reconnecting client gets it from the log (docs/architecture.md, event path).
"""

from __future__ import annotations

import datetime as dt
import time

from pymongo.asynchronous.client_session import AsyncClientSession
from redis.asyncio import Redis

from app.alerts import repository
from app.alerts.documents import AlertFiring, PriceAlert
from app.alerts.rules import AlertKind, AlertState, PriceWindow, evaluate
from app.alerts.schemas import AlertCreate, AlertTriggeredEvent
from app.audit.service import audit_service, club_chain
from app.clubs.errors import RoleRequired
from app.clubs.service import TREASURY, club_service
from app.db import run_in_transaction
from app.errors import NotFound
from app.market.service import market_service
from app.money import format_minor, parse_minor
from app.realtime import events
from app.realtime.rooms import club_room
from streams.records import MarketTickV1

ALERT_TRIGGERED = "alert:triggered"
CACHE_SECONDS = 2.0
DEFAULT_KEEP_US = 3600 * 1_000_000


class AlertNotFound(NotFound):
    code = "alert_not_found"


def _state(alert: PriceAlert) -> AlertState:
    return AlertState(
        kind=alert.kind, threshold=alert.threshold, move_bps=alert.move_bps, rearm=alert.rearm,
        active=alert.active, side=alert.side, in_move=alert.in_move, last_seq=alert.last_seq,
    )  # fmt: skip


class AlertService:
    """Members' alerts. Takes the acting user's id explicitly."""

    async def do_create(self, club_id: str, actor_id: str, data: AlertCreate,
                        redis: Redis) -> PriceAlert:  # fmt: skip
        """Set up an alert (any member). The current quote, if any, tells an above/below alert
        which side it starts on, so the next crossing fires. Raises ``ClubNotFound``,
        ``UnknownSymbols``."""
        await club_service.check_member(club_id, actor_id)
        await market_service.check_symbols([data.symbol])
        alert = PriceAlert(
            club_id=club_id, created_by=actor_id, symbol=data.symbol, kind=data.kind,
            threshold=data.price, move_bps=data.move_bps, window_seconds=data.window_seconds,
            rearm=data.rearm, note=data.note,
        )  # fmt: skip
        latest = await market_service.latest_quotes(redis, [data.symbol])
        if latest and alert.threshold is not None:
            # Only the side is learnt here; ticks (whose seq is far above 1) decide firings.
            decision = evaluate(_state(alert), parse_minor(latest[0].price), 1)
            alert.side, alert.last_seq = decision.state.side, decision.state.last_seq
        await repository.insert_alert(alert)
        await events.ensure_room(club_room(club_id))
        await audit_service.do_append(
            chain=club_chain(club_id), actor_id=actor_id, action="alert.created",
            target_type="alert", target_id=str(alert.id),
            details={"symbol": alert.symbol, "kind": alert.kind.value},
        )  # fmt: skip
        return alert

    async def list_alerts(self, club_id: str, actor_id: str) -> list[PriceAlert]:
        """The club's alerts, newest first (any member)."""
        await club_service.check_member(club_id, actor_id)
        return await repository.club_alerts(club_id)

    async def do_cancel(self, club_id: str, alert_id: str, actor_id: str) -> PriceAlert:
        """Cancel an alert (its creator, or owner/admin/treasurer). Raises ``AlertNotFound``,
        ``RoleRequired``."""
        _, membership = await club_service.check_member(club_id, actor_id)
        alert = await repository.get_alert(alert_id)
        if alert is None or alert.club_id != club_id:
            raise AlertNotFound("no such alert")
        if alert.created_by != actor_id and membership.role not in TREASURY:
            raise RoleRequired("only its creator or a treasurer can cancel this alert",
                               details={"required": [r.value for r in TREASURY]})  # fmt: skip
        await repository.cancel_alert(alert)
        alert.active, alert.cancelled = False, True
        return alert


class AlertEngine:
    """Evaluates every active alert of a tick's symbol. One per worker agent; ticks of a
    symbol arrive in order on one partition, so one engine sees all of a symbol's ticks."""

    def __init__(self) -> None:
        self._alerts: dict[str, tuple[float, list[PriceAlert]]] = {}
        self._windows: dict[str, PriceWindow] = {}

    async def _active(self, symbol: str) -> list[PriceAlert]:
        cached = self._alerts.get(symbol)
        if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
            found = await repository.active_alerts(symbol)
            cached = self._alerts[symbol] = (time.monotonic(), found)
        return cached[1]

    async def do_apply_tick(self, tick: MarketTickV1) -> int:
        """Apply ``tick`` to the symbol's alerts; returns how many fired (each firing's
        ``alert:triggered`` is stored in the club room's log and sent after its commit)."""
        alerts = await self._active(tick.symbol)
        window = self._windows.setdefault(tick.symbol, PriceWindow())
        keep = max([a.window_seconds * 1_000_000 for a in alerts if a.window_seconds] or
                   [DEFAULT_KEEP_US])  # fmt: skip
        window.add(tick.seq, tick.price, keep)
        fired = 0
        for alert in list(alerts):
            if not alert.active:
                continue
            reference = None
            if alert.kind == AlertKind.MOVE and alert.window_seconds:
                reference = window.reference(tick.seq, alert.window_seconds * 1_000_000)
            decision = evaluate(_state(alert), tick.price, tick.seq, reference)
            if decision.state == _state(alert):
                continue
            if decision.fired:
                fired += await self._fire(alert, decision.state, tick, decision.measured_bps)
            elif await self._move(alert, decision.state, None):
                self._remember(alert, decision.state, fired=False)
            else:
                self._alerts.pop(tick.symbol, None)  # changed elsewhere: reload next tick
        return fired

    @staticmethod
    def _remember(alert: PriceAlert, state: AlertState, *, fired: bool) -> None:
        alert.side, alert.in_move = state.side, state.in_move
        alert.last_seq, alert.active = state.last_seq, state.active
        if fired:
            alert.fired_count += 1

    async def _move(self, alert: PriceAlert, state: AlertState,
                    session: AsyncClientSession | None, fired: bool = False) -> bool:  # fmt: skip
        changes: dict[str, object] = {
            "side": state.side, "in_move": state.in_move, "last_seq": state.last_seq,
            "active": state.active,
        }  # fmt: skip
        if fired:
            changes["last_fired_at"] = dt.datetime.now(dt.UTC)
        return await repository.move_alert(alert, changes, session, fired=fired)

    async def _fire(self, alert: PriceAlert, state: AlertState, tick: MarketTickV1,
                    measured: int | None) -> int:  # fmt: skip
        room = club_room(alert.club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> bool:
            if not await self._move(alert, state, session, fired=True):
                return False  # changed meanwhile (cancelled, or this tick already applied)
            outgoing = await events.room_event(
                session, room, ALERT_TRIGGERED, AlertTriggeredEvent, club_id=alert.club_id,
                alert_id=str(alert.id), symbol=alert.symbol, kind=alert.kind,
                price=format_minor(tick.price),
                threshold=None if alert.threshold is None else format_minor(alert.threshold),
                move_bps=alert.move_bps, measured_bps=measured,
                window_seconds=alert.window_seconds, rearm=alert.rearm,
                still_active=state.active, fired_count=alert.fired_count + 1,
                trade_date=tick.trade_date,
            )  # fmt: skip
            await repository.insert_firing(AlertFiring(
                alert_id=str(alert.id), club_id=alert.club_id, symbol=alert.symbol,
                kind=alert.kind, price=tick.price, tick_seq=tick.seq, measured_bps=measured,
                room_seq=int(outgoing.data["seq"]),
            ), session)  # fmt: skip
            return True

        if await run_in_transaction(body):
            self._remember(alert, state, fired=True)
            return 1
        self._alerts.pop(alert.symbol, None)  # reload from the database next tick
        return 0


alert_service = AlertService()


alert_engine = AlertEngine()
