"""Price alerts: what members set up (HTTP) and how ticks trigger them (the alerts agent).

A firing is one transaction: the alert's rule state moves (guarded on its previous
``last_seq``, so a re-delivered tick or a second worker cannot fire it twice), the firing is
stored, and ``alert:triggered`` is appended to the club room's event log; it is emitted after
the commit, and a reconnecting client gets it from the log (docs/architecture.md, event path).
"""

from __future__ import annotations

import datetime as dt

from pymongo.asynchronous.client_session import AsyncClientSession
from redis.asyncio import Redis
from redis.exceptions import RedisError

from app.alerts import repository
from app.alerts.documents import AlertFiring, PriceAlert
from app.alerts.rules import AlertKind, AlertState, PriceWindow, evaluate
from app.alerts.schemas import AlertCreate, AlertTriggeredEvent
from app.audit.service import audit_service, club_chain
from app.clubs.errors import RoleRequired
from app.clubs.service import TREASURY, club_service
from app.db import run_in_transaction
from app.errors import NotFound
from app.extensions import services
from app.logging import get_logger
from app.market.service import market_service
from app.money import format_minor, parse_minor
from app.realtime import events
from app.realtime.rooms import club_room
from app.symbolcache import SymbolCache
from streams.records import MarketTickV1

log = get_logger(__name__)
ALERT_TRIGGERED = "alert:triggered"
CACHE_SECONDS = 30.0  # the copy's backstop age; changes are seen at once (version token)
DEFAULT_KEEP_US = 3600 * 1_000_000


class AlertNotFound(NotFound):
    code = "alert_not_found"


def _state(alert: PriceAlert) -> AlertState:
    return AlertState(
        kind=alert.kind, threshold=alert.threshold, move_bps=alert.move_bps, rearm=alert.rearm,
        active=alert.active, side=alert.side, in_move=alert.in_move, last_seq=alert.last_seq,
    )  # fmt: skip


def _moved(before: AlertState, after: AlertState) -> bool:
    # What ``evaluate`` changes besides ``last_seq``: only these are worth a write.
    return (after.side, after.in_move, after.active) != (before.side, before.in_move,
                                                          before.active)  # fmt: skip


async def _touch(redis: Redis, symbol: str) -> None:
    """Tell the alert engines that ``symbol``'s alerts changed (after the change is stored).
    Best effort: without it an engine sees the change within ``CACHE_SECONDS``."""
    try:
        await repository.touch_alerts_version(redis, symbol)
    except (RedisError, OSError) as exc:
        log.warning("alerts version not written", symbol=symbol, error=str(exc))


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
        await _touch(redis, alert.symbol)
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
        await _touch(services.require_redis(), alert.symbol)
        alert.active, alert.cancelled = False, True
        return alert


class AlertEngine:
    """Evaluates every active alert of a tick's symbol. One per worker agent; ticks of a
    symbol arrive in order on one partition, so one engine sees all of a symbol's ticks.

    The symbol's active alerts are kept in memory (``app/symbolcache.py``): a tick reads one
    Redis version token, not the database; creating or cancelling an alert writes a new token,
    so the next tick sees it. What a tick changes is stored only when the rule state that
    matters moves (``side``, ``in_move``, ``active``: a crossing, a firing), not the tick's
    ``seq`` alone — a tick that changes nothing but ``last_seq`` would decide the same way when
    re-delivered. Moves of one tick go in one write; each firing is its own transaction."""

    def __init__(self) -> None:
        self._alerts = SymbolCache(repository.active_alerts, self._versions,
                                   max_age=CACHE_SECONDS)  # fmt: skip
        self._windows: dict[str, PriceWindow] = {}
        self._seen: dict[str, int] = {}

    @staticmethod
    async def _versions(symbols: list[str]) -> list[object]:
        return await repository.alerts_versions(services.require_redis(), symbols)

    @property
    def loads(self) -> int:
        """How many times the engine read a symbol's alerts from the database."""
        return self._alerts.loads

    async def do_apply_tick(self, tick: MarketTickV1) -> int:
        """Apply ``tick`` to the symbol's alerts; returns how many fired (each firing's
        ``alert:triggered`` is stored in the club room's log and sent after its commit). A tick
        not newer than one this engine already applied (Kafka re-delivers) changes nothing."""
        return await self.do_apply_ticks([tick])

    async def do_apply_ticks(self, ticks: list[MarketTickV1]) -> int:
        """``do_apply_tick`` for each of ``ticks`` in order, with one read of the version
        tokens of their symbols; returns how many alerts fired."""
        await self._alerts.get_many(list(dict.fromkeys(t.symbol for t in ticks)))
        fired = 0
        for tick in ticks:
            alerts = self._alerts.held(tick.symbol)  # None: forgotten by an earlier tick
            if alerts is None:
                alerts = await self._alerts.get(tick.symbol)
            fired += await self._apply(tick, alerts)
        return fired

    async def _apply(self, tick: MarketTickV1, alerts: list[PriceAlert]) -> int:
        if tick.seq <= self._seen.get(tick.symbol, 0):
            return 0
        window = self._windows.setdefault(tick.symbol, PriceWindow())
        keep = max([a.window_seconds * 1_000_000 for a in alerts if a.window_seconds] or
                   [DEFAULT_KEEP_US])  # fmt: skip
        window.add(tick.seq, tick.price, keep)
        fired = 0
        moves: list[tuple[PriceAlert, AlertState]] = []
        for alert in list(alerts):
            if not alert.active:
                continue
            reference = None
            if alert.kind == AlertKind.MOVE and alert.window_seconds:
                reference = window.reference(tick.seq, alert.window_seconds * 1_000_000)
            before = _state(alert)
            decision = evaluate(before, tick.price, tick.seq, reference)
            if decision.fired:
                fired += await self._fire(alert, decision.state, tick, decision.measured_bps)
            elif _moved(before, decision.state):
                moves.append((alert, decision.state))
        if moves:
            changes = [(alert, self._changes(state)) for alert, state in moves]
            if await repository.move_alerts(changes) == len(moves):
                for alert, state in moves:
                    self._remember(alert, state, fired=False)
            else:  # changed elsewhere (cancelled, another worker): reload next tick
                self._alerts.forget(tick.symbol)
        self._seen[tick.symbol] = tick.seq
        return fired

    @staticmethod
    def _remember(alert: PriceAlert, state: AlertState, *, fired: bool) -> None:
        alert.side, alert.in_move = state.side, state.in_move
        alert.last_seq, alert.active = state.last_seq, state.active
        if fired:
            alert.fired_count += 1

    @staticmethod
    def _changes(state: AlertState) -> dict[str, object]:
        return {"side": state.side, "in_move": state.in_move, "last_seq": state.last_seq,
                "active": state.active}  # fmt: skip

    async def _move(self, alert: PriceAlert, state: AlertState,
                    session: AsyncClientSession | None, fired: bool = False) -> bool:  # fmt: skip
        changes = self._changes(state)
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
        self._alerts.forget(alert.symbol)  # reload from the database next tick
        return 0


alert_service = AlertService()


alert_engine = AlertEngine()
