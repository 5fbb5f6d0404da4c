"""Unit-value arithmetic from exact integers (docs/domain.md, money representation and
"Unit-value accounting").

NAV is in paise, units in micro-units (millionths of a unit). The unit value is never stored
rounded: it is the ratio NAV ÷ units, used exactly; it is rounded half-even to 4 places only
for display. Units bought round half-even to the micro-unit; values round half-even to the paisa.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

MICRO = 1_000_000
PAISE_PER_RUPEE = 100
BPS = 10_000


class NonPositiveNav(ValueError):
    """The club's NAV is zero or negative while units are outstanding: no unit value exists."""


def round_half_even(value: Fraction) -> int:
    """Nearest integer, ties to even (Python's ``round`` on a Fraction does exactly that)."""
    return round(value)


@dataclass(frozen=True, slots=True)
class UnitValue:
    """The unit value of a club at one valuation: ``nav`` paise over ``units`` micro-units.

    When no units are outstanding yet, the club's ``starting_paise`` per unit applies
    (₹10.00 = 1000 by default).
    """

    nav: int
    units: int
    starting_paise: int

    def __post_init__(self) -> None:
        if self.units < 0:
            raise ValueError("units outstanding cannot be negative")
        if self.units > 0 and self.nav <= 0:
            raise NonPositiveNav(f"NAV is {self.nav} paise with {self.units} micro-units out")
        if self.starting_paise <= 0:
            raise ValueError("the starting unit value must be positive")

    @property
    def paise_per_unit(self) -> Fraction:
        """Exact paise per whole unit."""
        if self.units == 0:
            return Fraction(self.starting_paise)
        return Fraction(self.nav * MICRO, self.units)

    def units_for(self, amount_paise: int) -> int:
        """Micro-units that ``amount_paise`` buys, rounded half-even."""
        return round_half_even(Fraction(amount_paise * MICRO) / self.paise_per_unit)

    def value_of(self, micro_units: int) -> int:
        """Paise that ``micro_units`` are worth, rounded half-even."""
        return round_half_even(Fraction(micro_units) * self.paise_per_unit / MICRO)

    def display(self) -> str:
        """Rupees per unit with 4 places, half-even: ``"10.0000"``."""
        ten_thousandths = round_half_even(self.paise_per_unit * 100)  # (paise/100) × 10⁴
        whole, part = divmod(ten_thousandths, 10_000)
        return f"{whole}.{part:04d}"


def fee_of(gross_paise: int, fee_bps: int) -> int:
    """A fee of ``fee_bps`` basis points on ``gross_paise``, rounded half-even to the paisa."""
    return round_half_even(Fraction(gross_paise * fee_bps, BPS))


def share_display(part: int, whole: int, places: int = 4) -> str:
    """``part`` as a percentage of ``whole`` with ``places`` decimals, half-even (``"33.3333"``).

    Zero ``whole`` gives ``"0.0000"``.
    """
    if whole == 0:
        return "0." + "0" * places
    scaled = round_half_even(Fraction(part * 100 * 10**places, whole))
    sign = "-" if scaled < 0 else ""
    whole_part, frac = divmod(abs(scaled), 10**places)
    return f"{sign}{whole_part}.{frac:0{places}d}"


def format_units(micro_units: int) -> str:
    """Micro-units as a decimal string with 6 places: ``1500000`` → ``"1.500000"``."""
    sign = "-" if micro_units < 0 else ""
    whole, part = divmod(abs(micro_units), MICRO)
    return f"{sign}{whole}.{part:06d}"
