"""Room events of the clubs domain (``club:<id>``), recorded in the room's log and sent after
commit (app/realtime/events.py)."""

from __future__ import annotations

from app.realtime.contract import RoomEvent

WATCHLIST_CHANGED = "watchlist:changed"
RULES_CHANGED = "club:rules_changed"


class WatchlistChangedEvent(RoomEvent):
    """``watchlist:changed``: the club's watch-list is now ``symbols`` (set by ``changed_by``);
    the room receives their quotes from now on."""

    symbols: list[str]
    changed_by: str


class RulesChangedEvent(RoomEvent):
    """``club:rules_changed``: the club's rules are now ``rules`` (every rule by name, rates in
    basis points, amounts as decimal strings; ``before`` as they were), changed by an owner
    (``changed_by``) or by the members' vote on ``proposal_id``. Open proposals keep the rules
    they were opened with."""

    rules: dict[str, str | int | bool | None]
    before: dict[str, str | int | bool | None]
    changed_by: str | None
    proposal_id: str | None
