"""``python -m devtools.replayer``: the embedded market feed, a development stand-in. It replays
real daily history (app/market/dataset.py) as intraday ticks into the market-ticks topic, at a
configurable speed.

Each trading day becomes ``ticks_per_day`` steps. The price walks piecewise-linearly from the
open to the day's first extreme, to the other extreme, to the close (low first on an up day,
high first on a down day), so every tick lies within the real day's range and the day's last
tick is its real close. Volume accumulates evenly to the day's real volume.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import signal
import time
from collections.abc import Iterator
from fractions import Fraction

from aiokafka.errors import KafkaError

from app.config import Settings, settings_or_exit
from app.errors import ServiceStartupError
from app.logging import configure_logging, get_logger
from app.market.dataset import DailyBar, Series, load_catalogue
from streams.admin import ensure_topics
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS

log = get_logger(__name__)


def intraday_path(bar: DailyBar, steps: int) -> list[int]:
    """Prices (minor units) of ``steps`` ticks through one day: open → extreme → extreme → close.

    The first value is the open, the last the close, and the high and low are each reached
    once (for ``steps >= 4``). Intermediate values are rounded half-even to the minor unit.

    Raises:
        ValueError: if ``steps < 4``.
    """
    if steps < 4:
        raise ValueError("a day needs at least 4 ticks to pass through open, high, low and close")
    first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
    anchors = [
        (0, bar.open),
        (steps // 3, first),
        ((2 * steps) // 3, second),
        (steps - 1, bar.close),
    ]
    path: list[int] = []
    for (i0, p0), (i1, p1) in itertools.pairwise(anchors):
        for i in range(i0, i1):
            path.append(round(p0 + Fraction((p1 - p0) * (i - i0), i1 - i0)))
    path.append(bar.close)
    return path


def cumulative_volume(total: int | None, step: int, steps: int) -> int | None:
    """Shares traded by the end of ``step`` (0-based) of ``steps``; the last gives ``total``."""
    if total is None:
        return None
    return total * (step + 1) // steps


class Replayer:
    """Turns the catalogue into ticks for a window of trading days.

    Args:
        series: the series to replay (by symbol).
        start, end: the window of real trading days, inclusive.
        ticks_per_day: steps per trading day (>= 4).
        seconds_per_day: wall-clock seconds one trading day takes.
        loop: start again at ``start`` after ``end``.
    """

    def __init__(
        self,
        series: dict[str, Series],
        start: dt.date,
        end: dt.date,
        ticks_per_day: int,
        seconds_per_day: float,
        loop: bool = True,
    ) -> None:
        if not series:
            raise ValueError("nothing to replay: no series selected")
        self.series = series
        self.ticks_per_day = ticks_per_day
        self.seconds_per_day = seconds_per_day
        self.loop = loop
        self._bars: dict[dt.date, list[tuple[Series, DailyBar, int]]] = {}
        for one in series.values():
            previous: int | None = one.previous_close(start)
            for bar in one.between(start, end):
                self._bars.setdefault(bar.date, []).append(
                    (one, bar, previous if previous is not None else bar.open)
                )
                previous = bar.close
        self.days = sorted(self._bars)
        if not self.days:
            raise ValueError(f"no trading days between {start} and {end} for the chosen symbols")
        self._last_seq = 0

    def _next_seq(self) -> int:
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1000)
        return self._last_seq

    def day_steps(self, day: dt.date) -> Iterator[list[MarketTickV1]]:
        """Yield, step by step, the ticks of every symbol that traded on ``day``."""
        entries = self._bars[day]
        paths = [intraday_path(bar, self.ticks_per_day) for _, bar, _ in entries]
        for step in range(self.ticks_per_day):
            ts = dt.datetime.now(dt.UTC)
            batch = []
            for (one, bar, prev_close), path in zip(entries, paths, strict=True):
                seq = self._next_seq()
                batch.append(
                    MarketTickV1(
                        id=f"{one.symbol}:{seq}",
                        seq=seq,
                        ts=ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        symbol=one.symbol,
                        price=path[step],
                        open=bar.open,
                        high=max(path[: step + 1]),
                        low=min(path[: step + 1]),
                        prev_close=prev_close,
                        volume=cumulative_volume(bar.volume, step, self.ticks_per_day),
                        currency=one.currency,
                        trade_date=day.isoformat(),
                        source=one.source,
                    )
                )
            yield batch

    async def run(
        self, producer: EventProducer, stop: asyncio.Event, max_days: int | None = None
    ) -> int:
        """Send ticks until ``stop`` is set (or ``max_days`` days are done); return ticks sent."""
        interval = self.seconds_per_day / self.ticks_per_day
        sent = 0
        days_done = 0
        while not stop.is_set():
            for day in self.days:
                for batch in self.day_steps(day):
                    began = time.monotonic()
                    try:
                        await producer.send_many(MARKET_TICKS, [(t.symbol, t) for t in batch])
                        sent += len(batch)
                    except KafkaError as exc:
                        # Quotes are state: a batch lost while Kafka is away is superseded by
                        # the next one, so keep the clock running rather than fall behind.
                        log.warning("ticks not sent: Kafka unavailable", error=str(exc))
                    wait = interval - (time.monotonic() - began)
                    if wait > 0:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), timeout=wait)
                    if stop.is_set():
                        return sent
                days_done += 1
                log.debug("replayed day", day=day.isoformat(), ticks=sent)
                if max_days is not None and days_done >= max_days:
                    return sent
            if not self.loop:
                break
        return sent


def select_series(settings: Settings, symbols: list[str] | None = None) -> dict[str, Series]:
    """The catalogue restricted to ``symbols`` (or ``settings.replay_symbols``; empty means all).

    Raises:
        ValueError: naming any symbol that is not in the catalogue.
    """
    catalogue = load_catalogue()
    wanted = [s.upper() for s in (symbols or settings.replay_symbols)]
    unknown = sorted(set(wanted) - set(catalogue))
    if unknown:
        raise ValueError(f"unknown symbols: {', '.join(unknown)}")
    return {s: catalogue[s] for s in wanted} if wanted else dict(catalogue)


async def replay_forever(settings: Settings, symbols: list[str] | None = None) -> None:
    """Run the replayer against ``settings.kafka_bootstrap_servers`` until SIGINT/SIGTERM."""
    replayer = Replayer(
        select_series(settings, symbols),
        settings.replay_start,
        settings.replay_end,
        settings.replay_ticks_per_day,
        settings.replay_seconds_per_day,
        settings.replay_loop,
    )
    address = settings.kafka_bootstrap_servers
    producer = EventProducer(address, client_id="samooh-replayer")
    try:
        await asyncio.wait_for(ensure_topics(address), settings.service_timeout_seconds)
        await asyncio.wait_for(producer.start(), settings.service_timeout_seconds)
    except (KafkaError, OSError, TimeoutError) as exc:
        await producer.stop()
        raise ServiceStartupError("Kafka", address, str(exc) or type(exc).__name__) from exc
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "replayer started",
        symbols=len(replayer.series),
        days=len(replayer.days),
        first=replayer.days[0].isoformat(),
        last=replayer.days[-1].isoformat(),
        seconds_per_day=settings.replay_seconds_per_day,
        ticks_per_day=settings.replay_ticks_per_day,
    )
    try:
        sent = await replayer.run(producer, stop)
    finally:
        await producer.stop()
    log.info("replayer stopped", ticks=sent)


def main(argv: list[str] | None = None) -> None:
    """``python -m devtools.replayer [--symbols AAPL,MSFT]``: replay until interrupted."""
    parser = argparse.ArgumentParser(description="Replay real daily prices as live ticks.")
    parser.add_argument("--symbols", default="", help="comma-separated; default: all")
    args = parser.parse_args(argv)
    settings = settings_or_exit("replayer")
    configure_logging(settings.log_level, settings.log_json)
    symbols = [s for s in args.symbols.split(",") if s]
    try:
        asyncio.run(replay_forever(settings, symbols))
    except (ServiceStartupError, ValueError) as exc:
        raise SystemExit(f"samooh replayer: {exc}") from None


if __name__ == "__main__":
    main()
