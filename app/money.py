"""Money and rate representation shared by every domain (docs/domain.md, money representation).

Amounts are integers in minor units (paise for INR, cents for USD) in storage, events and
arithmetic. The API shows them as decimal strings with exactly two places and accepts the same.
Rates are basis points (6000 = 60 %). Nothing here ever touches a float.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema

MINOR_PER_MAJOR = 100
BASIS_POINTS_PER_UNIT = 10_000

_AMOUNT_RE = re.compile(r"^-?\d{1,15}(\.\d{1,2})?$")


class AmountFormatError(ValueError):
    """Raised when a string is not an amount with at most two decimal places."""


def format_minor(amount_minor: int) -> str:
    """Render minor units as a two-place decimal string: ``545625`` → ``"5456.25"``."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise TypeError(f"amount must be int minor units, got {type(amount_minor).__name__}")
    sign = "-" if amount_minor < 0 else ""
    whole, part = divmod(abs(amount_minor), MINOR_PER_MAJOR)
    return f"{sign}{whole}.{part:02d}"


def parse_minor(text: str) -> int:
    """Parse a decimal string with at most two places into minor units: ``"5456.25"`` → ``545625``.

    Raises:
        AmountFormatError: for anything else (exponents, three places, blanks, floats' repr).
    """
    if not isinstance(text, str) or not _AMOUNT_RE.match(text.strip()):
        raise AmountFormatError(f"not an amount with at most two decimal places: {text!r}")
    return int(Decimal(text.strip()) * MINOR_PER_MAJOR)


def decimal_to_minor(value: Decimal | str) -> int:
    """Round a decimal quantity of major units to minor units, half-even (``"38.2318"`` → 3823).

    Used where source data carries more places than the currency (e.g. vendor price files).

    Raises:
        AmountFormatError: when the value is not a finite decimal number.
    """
    try:
        quantity = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise AmountFormatError(f"not a decimal number: {value!r}") from exc
    if not quantity.is_finite():
        raise AmountFormatError(f"not a finite number: {value!r}")
    return int((quantity * MINOR_PER_MAJOR).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def change_basis_points(price_minor: int, reference_minor: int) -> int:
    """Change from ``reference_minor`` to ``price_minor`` in basis points, rounded half-even.

    ``change_basis_points(10127, 10000)`` → 127 (1.27 %). A zero reference gives 0.
    """
    if reference_minor == 0:
        return 0
    ratio = (
        Decimal(price_minor - reference_minor) * BASIS_POINTS_PER_UNIT / Decimal(reference_minor)
    )
    return int(ratio.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def format_basis_points(bps: int) -> str:
    """Render basis points as a percentage string with two places: ``127`` → ``"1.27"``."""
    sign = "-" if bps < 0 else ""
    whole, part = divmod(abs(bps), 100)
    return f"{sign}{whole}.{part:02d}"


def _paise(value: object) -> int:
    """A request amount (a decimal string) as integer minor units; anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError('amounts are decimal strings with two places, e.g. "5456.25"')
    try:
        return parse_minor(value)
    except AmountFormatError as exc:
        raise ValueError(str(exc)) from exc


AMOUNT_SCHEMA = {
    "type": "string",
    "pattern": r"^-?\d{1,15}(\.\d{1,2})?$",
    "description": "an amount as a decimal string with at most two places",
    "examples": ["5456.25"],
}

Paise = Annotated[int, BeforeValidator(_paise), WithJsonSchema(AMOUNT_SCHEMA)]
"""A request amount: a decimal string in (so documented), integer paise out."""


def round_ratio(numerator: int, denominator: int) -> int:
    """``numerator ÷ denominator`` rounded half-even, integers only (an average price in minor
    units). Raises ``ZeroDivisionError`` for a zero denominator."""
    return round(Fraction(numerator, denominator))


def group_indian(amount: str) -> str:
    """Indian digit grouping of a decimal string: ``"169800.00"`` → ``"1,69,800.00"``."""
    sign = "-" if amount.startswith("-") else ""
    whole, dot, part = amount.lstrip("-").partition(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        pairs: list[str] = []
        while len(head) > 2:
            pairs.insert(0, head[-2:])
            head = head[:-2]
        whole = ",".join([head, *pairs, tail]) if head else ",".join([*pairs, tail])
    return f"{sign}{whole}{dot}{part}"


def group_thousands(amount: str) -> str:
    """Grouping by thousands of a decimal string: ``"169800.00"`` → ``"169,800.00"``."""
    sign = "-" if amount.startswith("-") else ""
    whole, dot, part = amount.lstrip("-").partition(".")
    return f"{sign}{int(whole or '0'):,}{dot}{part}"


CURRENCY_SIGNS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}


def money_text(minor: int, currency: str) -> str:
    """An amount as people read it in a sentence: its currency's sign and grouping
    (``money_text(10000000, "INR")`` → ``"₹1,00,000.00"``; ``"$1,234.50"``; another currency
    by its code: ``"CHF 12.00"``)."""
    text = format_minor(minor)
    grouped = group_indian(text) if currency == "INR" else group_thousands(text)
    sign = CURRENCY_SIGNS.get(currency)
    if sign is None:
        return f"{currency} {grouped}"
    return f"-{sign}{grouped[1:]}" if grouped.startswith("-") else f"{sign}{grouped}"
