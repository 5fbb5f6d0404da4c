"""When an alert fires: exactly once per crossing, from integers (cents/paise and basis points).

* ``above`` fires when the price crosses from below the threshold to at-or-above it; ``below``
  from above to at-or-below. The first price an alert sees only tells it which side it is on.
* ``move`` fires when the price has moved at least ``move_bps`` from the oldest price inside
  the window (either direction); it is "in a move" until the move falls back under the bar.
* A one-shot alert is done after it fires; a re-arming one fires again at the next crossing
  (the price must first go back, so one crossing never fires twice).
* A tick whose ``seq`` is not above the alert's last one changes nothing (Kafka re-delivers).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from enum import StrEnum

BPS = 10_000


class AlertKind(StrEnum):
    ABOVE = "above"
    BELOW = "below"
    MOVE = "move"


@dataclass(frozen=True, slots=True)
class AlertState:
    """What an alert remembers between ticks."""

    kind: AlertKind
    threshold: int | None  # minor units, for above/below
    move_bps: int | None  # for move
    rearm: bool
    active: bool = True
    side: str | None = None  # "above" | "below" of the threshold, once seen
    in_move: bool = False
    last_seq: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The new state; ``fired`` when this tick triggers the alert; ``move_bps`` measured."""

    state: AlertState
    fired: bool
    measured_bps: int | None = None


def _side(kind: AlertKind, price: int, threshold: int) -> str:
    if kind == AlertKind.ABOVE:
        return "above" if price >= threshold else "below"
    return "below" if price <= threshold else "above"


def evaluate(state: AlertState, price: int, seq: int, reference: int | None = None) -> Decision:
    """Apply one tick (``price`` in minor units, ``seq`` its order) to ``state``.

    ``reference``: for ``move`` alerts, the oldest price inside the window (minor units).
    """
    if not state.active or seq <= state.last_seq:
        return Decision(state, False)
    if state.kind in (AlertKind.ABOVE, AlertKind.BELOW):
        assert state.threshold is not None
        side = _side(state.kind, price, state.threshold)
        target = "above" if state.kind == AlertKind.ABOVE else "below"
        fired = state.side is not None and state.side != target and side == target
        new = replace(state, side=side, last_seq=seq, active=state.rearm or not fired)
        return Decision(new, fired)
    assert state.move_bps is not None
    if reference is None or reference <= 0:
        return Decision(replace(state, last_seq=seq), False)
    moved = abs(price - reference)
    measured = moved * BPS // reference
    beyond = moved * BPS >= state.move_bps * reference
    fired = beyond and not state.in_move
    new = replace(state, in_move=beyond, last_seq=seq, active=state.rearm or not fired)
    return Decision(new, fired, measured)


class PriceWindow:
    """Recent (time µs, price) pairs of one symbol, for ``move`` alerts: the oldest price
    inside ``window_us`` is the reference."""

    def __init__(self) -> None:
        self._points: deque[tuple[int, int]] = deque()

    def add(self, at_us: int, price: int, keep_us: int) -> None:
        self._points.append((at_us, price))
        while self._points and self._points[0][0] < at_us - keep_us:
            self._points.popleft()

    def reference(self, at_us: int, window_us: int) -> int | None:
        """The oldest price not older than ``window_us`` before ``at_us``."""
        for when, price in self._points:
            if when >= at_us - window_us:
                return price
        return None
