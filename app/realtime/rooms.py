"""Room names: the one place that spells them (docs/architecture.md, the one event path)."""

from __future__ import annotations


def symbol_room(symbol: str) -> str:
    """Room of everyone watching ``symbol``'s quotes: ``symbol:AAPL``."""
    return f"symbol:{symbol.upper()}"


def club_room(club_id: str) -> str:
    """Room of a club's members: ``club:<id>``."""
    return f"club:{club_id}"


def user_room(user_id: str) -> str:
    """Room of one person's sockets: ``user:<id>``."""
    return f"user:{user_id}"


def person_room(user_id: str) -> str:
    """One person's own log: ``person:<id>`` — the events about them that they must see after a
    reconnect (KYC decisions and expiries, consultations booked, club broadcasts), stored with a
    gap-free ``seq`` and replayed by ``feed:join``. (``user:<id>``'s own counter numbers the
    person's notifications, which are kept in their own collection.)"""
    return f"person:{user_id}"


BROADCASTS_ROOM = "broadcasts:all"
"""The log of broadcasts to everyone (``feed:join`` with ``feed: "broadcasts"``)."""

ACCOUNTS_ROOM = "accounts"
"""Room of every signed-in (non-guest) socket: broadcasts to everyone."""
