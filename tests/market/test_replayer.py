"""The replayer's intraday ticks follow each real day exactly (no services needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from app.config import Settings
from app.market.dataset import DailyBar, load_catalogue
from devtools.replayer import Replayer, cumulative_volume, intraday_path, select_series

UP_DAY = DailyBar(dt.date(2012, 1, 3), open=1000, high=1100, low=950, close=1080, volume=1000)
DOWN_DAY = DailyBar(dt.date(2012, 1, 4), open=1080, high=1090, low=1001, close=1003, volume=None)


@pytest.mark.parametrize("steps", [4, 5, 7, 60, 391])
@pytest.mark.parametrize("bar", [UP_DAY, DOWN_DAY])
def test_path_opens_closes_and_touches_the_range(bar: DailyBar, steps: int) -> None:
    path = intraday_path(bar, steps)
    assert len(path) == steps
    assert path[0] == bar.open and path[-1] == bar.close
    assert max(path) == bar.high and min(path) == bar.low
    assert all(isinstance(price, int) for price in path)


def test_up_day_dips_first_down_day_peaks_first() -> None:
    up, down = intraday_path(UP_DAY, 60), intraday_path(DOWN_DAY, 60)
    assert up.index(UP_DAY.low) < up.index(UP_DAY.high)
    assert down.index(DOWN_DAY.high) < down.index(DOWN_DAY.low)


def test_path_needs_four_ticks() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        intraday_path(UP_DAY, 3)


def test_volume_accumulates_to_the_days_volume() -> None:
    steps = 7
    volumes = [cumulative_volume(1000, i, steps) for i in range(steps)]
    assert volumes[-1] == 1000
    assert volumes == sorted(volumes)
    assert cumulative_volume(None, 3, steps) is None


def test_ticks_of_a_real_day() -> None:
    catalogue = load_catalogue()
    replayer = Replayer(
        {s: catalogue[s] for s in ("FB", "XOM")},
        dt.date(2012, 5, 18),
        dt.date(2012, 5, 22),
        ticks_per_day=10,
        seconds_per_day=1,
    )
    assert replayer.days == [dt.date(2012, 5, 18), dt.date(2012, 5, 21), dt.date(2012, 5, 22)]
    steps = list(replayer.day_steps(dt.date(2012, 5, 21)))
    assert len(steps) == 10 and all(len(batch) == 2 for batch in steps)
    fb = [next(t for t in batch if t.symbol == "FB") for batch in steps]
    assert fb[0].price == 3653 and fb[-1].price == 3403  # real open 36.53, close 34.03
    assert fb[-1].high == 3666 and fb[-1].low == 3300  # the day's real range, reached by the end
    assert all(t.prev_close == 3823 for t in fb)  # the listing day's close
    assert fb[-1].volume == 168192700
    assert all(t.trade_date == "2012-05-21" for t in fb)
    seqs = [t.seq for batch in steps for t in batch]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert len({t.id for batch in steps for t in batch}) == 20
    # running high/low never leave the real range and never shrink
    highs = [t.high for t in fb]
    assert highs == sorted(highs) and max(highs) == 3666


def test_first_listing_day_uses_its_open_as_previous_close() -> None:
    fb = load_catalogue()["FB"]
    replayer = Replayer({"FB": fb}, dt.date(2012, 5, 18), dt.date(2012, 5, 18), 4, 1)
    first = next(iter(replayer.day_steps(dt.date(2012, 5, 18))))
    assert first[0].prev_close == 4205


def test_unknown_symbols_and_empty_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown symbols: NOPE"):
        select_series(Settings(), ["AAPL", "nope"])
    with pytest.raises(ValueError, match="no trading days"):
        Replayer(select_series(Settings(), ["FB"]), dt.date(2020, 1, 1), dt.date(2020, 2, 1), 4, 1)
    assert set(select_series(Settings(), [])) == set(load_catalogue())
