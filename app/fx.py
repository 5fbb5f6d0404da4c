"""Foreign exchange at the European Central Bank's reference rates, for valuing a holding priced
in another currency than its portfolio. The rates come from the ECB history file that the
``currencyconverter`` library ships (no network), read as the decimals the ECB published.

Units: a rate is an integer, ``rate_e8`` = units of the quote currency per one unit of the base
currency × 10^8 (``RATE_SCALE``), rounded half-even from the exact ratio of the two published
per-euro rates. Amounts are integers in minor units (``MINOR_DIGITS``: 2 unless listed);
``FxRate.convert`` multiplies by ``rate_e8``, divides by 10^8 (and by the difference in minor
digits) and rounds half-even once. The rate of a day is the one the ECB published that day, else
the latest before it within ``LOOKBACK_DAYS`` (weekends, holidays); a day after the bundled
file's last day takes that last day's rate (``rate_date`` says which day was used).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from currency_converter import CurrencyConverter, RateNotFoundError

from app.errors import AppError

RATE_SCALE = 10**8
LOOKBACK_DAYS = 10
# ISO 4217 minor-unit digits of the currencies that differ from 2 (and that the ECB publishes).
MINOR_DIGITS = {"JPY": 0, "KRW": 0, "ISK": 0}


class FxRateUnavailable(AppError):
    """No ECB reference rate for the currency pair on or before the day (422); ``details``
    name the pair and the day."""

    status = 422
    code = "fx_rate_unavailable"


def _half_even(value: Fraction) -> int:
    """``value`` rounded to an integer, ties to even (Python's ``round`` on a Fraction)."""
    return round(value)


@dataclass(frozen=True, slots=True)
class FxRate:
    """``rate_e8`` units of ``quote`` per unit of ``base`` × 10^8, from the ECB rates of
    ``rate_date`` (the day asked for was ``on``)."""

    base: str
    quote: str
    on: dt.date
    rate_date: dt.date
    rate_e8: int

    def convert(self, minor: int) -> int:
        """``minor`` units of ``base`` as minor units of ``quote``, rounded half-even."""
        shift = MINOR_DIGITS.get(self.quote, 2) - MINOR_DIGITS.get(self.base, 2)
        return _half_even(Fraction(minor * self.rate_e8 * 10**shift, RATE_SCALE) if shift >= 0
                          else Fraction(minor * self.rate_e8, RATE_SCALE * 10**-shift))  # fmt: skip

    def text(self) -> str:
        """The rate as a decimal string with eight places, e.g. ``"54.48675431"``."""
        return rate_text(self.rate_e8)


def rate_text(rate_e8: int) -> str:
    """A stored ``rate_e8`` as a decimal string with eight places, e.g. ``"54.48675431"``."""
    return f"{Decimal(rate_e8).scaleb(-8):.8f}"


_lock = threading.Lock()
_loaded: CurrencyConverter | None = None


def _converter() -> CurrencyConverter:
    """The ECB history, parsed once per process (a few seconds; thread-safe)."""
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = CurrencyConverter(decimal=True, fallback_on_wrong_date=False,
                                        fallback_on_missing_rate=False)  # fmt: skip
        return _loaded


def _per_euro(converter: CurrencyConverter, currency: str, day: dt.date) -> Fraction | None:
    """The ECB's published euro rate of ``currency`` on ``day`` (exact), or None."""
    if currency == "EUR":
        return Fraction(1)
    try:
        return Fraction(converter.convert(Decimal(1), "EUR", currency, date=day))
    except RateNotFoundError:
        return None


def rate_on(base: str, quote: str, on: dt.date) -> FxRate:
    """The ECB rate from ``base`` to ``quote`` for the day ``on`` (see the module's rules).
    Blocks while the history loads the first time: async code calls ``rate``.

    Raises ``FxRateUnavailable`` for a currency the ECB does not publish, or a day before it
    did (or more than ``LOOKBACK_DAYS`` in a gap)."""
    base, quote = base.upper(), quote.upper()
    if base == quote:
        return FxRate(base, quote, on, on, RATE_SCALE)
    converter = _converter()
    known = converter.currencies
    if base not in known or quote not in known:
        raise FxRateUnavailable(
            f"no ECB reference rate for {base} to {quote}",
            details={"base": base, "quote": quote, "on": on.isoformat()},
        )
    last = min(converter.bounds[c].last_date for c in (base, quote) if c != "EUR")
    day = min(on, last)
    for _ in range(LOOKBACK_DAYS + 1):
        b, q = _per_euro(converter, base, day), _per_euro(converter, quote, day)
        if b is not None and q is not None:
            return FxRate(base, quote, on, day, _half_even(q / b * RATE_SCALE))
        day -= dt.timedelta(days=1)
    raise FxRateUnavailable(
        f"no ECB reference rate for {base} to {quote} on or before {on.isoformat()}",
        details={"base": base, "quote": quote, "on": on.isoformat()},
    )


async def rate(base: str, quote: str, on: dt.date) -> FxRate:
    """``rate_on`` without blocking the event loop (the first call loads the history in a
    thread). Raises ``FxRateUnavailable``."""
    if base.upper() == quote.upper():
        return rate_on(base, quote, on)
    return await asyncio.to_thread(rate_on, base, quote, on)
