"""Stored shapes of price alerts and their firings."""

from __future__ import annotations

import datetime as dt

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.alerts.rules import AlertKind


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PriceAlert(Document):
    """One club's alert on one symbol. ``threshold`` in minor units (above/below);
    ``move_bps`` and ``window_seconds`` for moves. ``side``/``in_move``/``last_seq`` are the
    rule state (app/alerts/rules.py); ``active`` False once a one-shot fired or it was
    cancelled."""

    club_id: str
    created_by: str
    symbol: str
    kind: AlertKind
    threshold: int | None = None
    move_bps: int | None = None
    window_seconds: int | None = None
    rearm: bool = False
    note: str = ""
    active: bool = True
    cancelled: bool = False
    side: str | None = None
    in_move: bool = False
    last_seq: int = 0
    fired_count: int = 0
    last_fired_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "price_alerts"
        indexes = [
            IndexModel([("symbol", ASCENDING), ("active", ASCENDING)], name="symbol_active"),
            IndexModel([("club_id", ASCENDING), ("created_at", DESCENDING)], name="club_time"),
        ]


class AlertFiring(Document):
    """One time an alert fired (unique per alert and tick): the price and what was measured."""

    alert_id: str
    club_id: str
    symbol: str
    kind: AlertKind
    price: int
    tick_seq: int
    measured_bps: int | None = None
    room_seq: int
    at: dt.datetime = Field(default_factory=_now)

    class Settings:
        name = "alert_firings"
        indexes = [
            IndexModel([("alert_id", ASCENDING), ("tick_seq", ASCENDING)], unique=True,
                       name="alert_tick_unique"),
            IndexModel([("club_id", ASCENDING), ("at", DESCENDING)], name="club_time"),
        ]  # fmt: skip
