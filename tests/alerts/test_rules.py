"""Alert rules: exactly once per crossing, re-arming, moves within a window."""

from __future__ import annotations

from app.alerts.rules import AlertKind, AlertState, PriceWindow, evaluate


def run(state: AlertState, prices: list[int], references: list[int | None] | None = None
        ) -> tuple[list[bool], AlertState]:  # fmt: skip
    fired = []
    for i, price in enumerate(prices):
        ref = references[i] if references else None
        decision = evaluate(state, price, i + 1, ref)
        fired.append(decision.fired)
        state = decision.state
    return fired, state


def test_above_fires_once_per_crossing_and_a_one_shot_is_done() -> None:
    state = AlertState(AlertKind.ABOVE, threshold=10_000, move_bps=None, rearm=False)
    fired, end = run(state, [9_900, 9_990, 10_000, 10_050, 9_900, 10_100])
    assert fired == [False, False, True, False, False, False]
    assert end.active is False


def test_a_rearming_alert_needs_the_price_to_go_back_first() -> None:
    state = AlertState(AlertKind.ABOVE, threshold=10_000, move_bps=None, rearm=True)
    fired, end = run(state, [9_900, 10_000, 10_200, 10_000, 9_999, 10_001, 10_500])
    assert fired == [False, True, False, False, False, True, False]
    assert end.active is True


def test_the_first_price_only_sets_the_side() -> None:
    state = AlertState(AlertKind.BELOW, threshold=5_000, move_bps=None, rearm=True)
    fired, _ = run(state, [4_000, 3_000, 5_001, 5_000])  # starts below: no "crossing" yet
    assert fired == [False, False, False, True]


def test_redelivered_and_older_ticks_change_nothing() -> None:
    state = AlertState(AlertKind.ABOVE, threshold=100, move_bps=None, rearm=True)
    state = evaluate(state, 99, 5).state
    decision = evaluate(state, 101, 6)
    assert decision.fired
    again = evaluate(decision.state, 101, 6)
    older = evaluate(decision.state, 90, 4)
    assert not again.fired and again.state == decision.state
    assert not older.fired and older.state == decision.state


def test_moves_within_the_window() -> None:
    state = AlertState(AlertKind.MOVE, threshold=None, move_bps=200, rearm=True)  # 2 %
    # reference 10_000 throughout: 1.99 % no, 2.00 % yes, stays in the move, back, again
    prices = [10_100, 10_199, 10_200, 10_400, 10_100, 9_800]
    fired, _ = run(state, prices, [10_000] * len(prices))
    assert fired == [False, False, True, False, False, True]
    assert evaluate(state, 9_800, 1, 10_000).measured_bps == 200


def test_the_window_keeps_only_recent_prices() -> None:
    window = PriceWindow()
    for second, price in enumerate([100, 101, 102, 103, 104]):
        window.add(second * 1_000_000, price, keep_us=10_000_000)
    assert window.reference(4_000_000, 2_000_000) == 102
    assert window.reference(4_000_000, 60_000_000) == 100
