"""Alert requests, responses and the ``alert:triggered`` room event. Prices are decimal
strings; move sizes basis points (200 = 2 %)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, model_validator

from app.alerts.rules import AlertKind
from app.money import Paise
from app.realtime.contract import RoomEvent

Price = Paise


class AlertCreate(BaseModel):
    """``above``/``below`` need ``price``; ``move`` needs ``move_bps`` and ``window_seconds``.
    ``rearm``: fire again at every new crossing (default: once, then done)."""

    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9.]+$")
    kind: AlertKind
    price: Price | None = None
    move_bps: int | None = Field(default=None, ge=1, le=10_000)
    window_seconds: int | None = Field(default=None, ge=1, le=7 * 86_400)
    rearm: bool = False
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _fields_for_kind(self) -> AlertCreate:
        if self.kind == AlertKind.MOVE:
            if self.move_bps is None or self.window_seconds is None or self.price is not None:
                raise ValueError("a move alert takes move_bps and window_seconds, not price")
        elif self.price is None or self.price <= 0 or self.move_bps is not None:
            raise ValueError(f"an {self.kind.value} alert takes a positive price")
        self.symbol = self.symbol.upper()
        return self


class AlertOut(BaseModel):
    id: str
    club_id: str
    created_by: str
    symbol: str
    kind: AlertKind
    price: str | None
    move_bps: int | None
    window_seconds: int | None
    rearm: bool
    note: str
    active: bool
    fired_count: int
    last_fired_at: dt.datetime | None
    created_at: dt.datetime


class AlertList(BaseModel):
    alerts: list[AlertOut]


class AlertTriggeredEvent(RoomEvent):
    """``alert:triggered`` in ``club:<id>`` (stored in the room log, so a reconnecting client
    gets the ones it missed): which alert, the price that crossed, and what was measured."""

    alert_id: str
    symbol: str
    kind: AlertKind
    price: str
    threshold: str | None
    move_bps: int | None
    measured_bps: int | None
    window_seconds: int | None
    rearm: bool
    still_active: bool
    fired_count: int
    trade_date: str
