"""Room events of the clubs domain (``club:<id>``), recorded in the room's log and sent after
commit (app/realtime/events.py)."""

from __future__ import annotations

from app.realtime.contract import RoomEvent

WATCHLIST_CHANGED = "watchlist:changed"


class WatchlistChangedEvent(RoomEvent):
    """``watchlist:changed``: the club's watch-list is now ``symbols`` (set by ``changed_by``);
    the room receives their quotes from now on."""

    symbols: list[str]
    changed_by: str
