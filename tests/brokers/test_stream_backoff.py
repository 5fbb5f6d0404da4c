"""A dropped Alpaca ``trade_updates`` stream is opened again with back-off: at once after the
first drop, then waiting twice as long after each failure in a row, at most a minute, and
afresh once a stream stayed up a minute (app/brokers/alpaca.py ``ReconnectBackoff``)."""

from __future__ import annotations

from app.brokers.alpaca import ReconnectBackoff


def test_a_stream_that_keeps_failing_is_tried_less_and_less_often() -> None:
    backoff = ReconnectBackoff()
    assert backoff.may_open("club", 0.0)  # never failed: open at once
    now, waits = 100.0, []
    for _ in range(8):  # an unreachable endpoint: each try fails within a second
        backoff.ended("club", ran_for=0.5, now=now)
        wait = backoff.not_before["club"] - now
        assert not backoff.may_open("club", now + wait - 0.01)
        assert backoff.may_open("club", now + wait)
        waits.append(wait)
        now += wait
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff.may_open("other", now)  # each club on its own

    # A stream that stayed up a minute before it dropped is healthy: 2 s again.
    backoff.ended("club", ran_for=75.0, now=now)
    assert backoff.not_before["club"] - now == 2
    # New keys (or the link removed): afresh.
    backoff.ended("club", ran_for=1.0, now=now)
    backoff.forget("club")
    assert backoff.may_open("club", now)
