"""Money representation (docs/domain.md, money representation)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.money import (
    AmountFormatError,
    change_basis_points,
    decimal_to_minor,
    format_basis_points,
    format_minor,
    parse_minor,
)


@pytest.mark.parametrize(
    ("minor", "text"),
    [(545625, "5456.25"), (0, "0.00"), (5, "0.05"), (-1999, "-19.99"), (100, "1.00")],
)
def test_format_and_parse_round_trip(minor: int, text: str) -> None:
    assert format_minor(minor) == text
    assert parse_minor(text) == minor


@pytest.mark.parametrize("text", ["1.234", "1e3", "", " ", "abc", "1.2.3", "NaN", "--1"])
def test_parse_rejects_anything_but_two_place_decimals(text: str) -> None:
    with pytest.raises(AmountFormatError):
        parse_minor(text)


def test_format_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_minor(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "minor"),
    [("38.2318", 3823), ("0.125", 12), ("0.135", 14), ("-0.125", -12), (Decimal("4.186"), 419)],
)
def test_decimal_to_minor_rounds_half_even(value: str | Decimal, minor: int) -> None:
    assert decimal_to_minor(value) == minor


def test_decimal_to_minor_rejects_non_numbers() -> None:
    with pytest.raises(AmountFormatError):
        decimal_to_minor("Infinity")
    with pytest.raises(AmountFormatError):
        decimal_to_minor("twelve")


def test_change_in_basis_points() -> None:
    assert change_basis_points(10127, 10000) == 127
    assert change_basis_points(3403, 3823) == -1099  # FB's second trading day: -10.99 %
    assert change_basis_points(100, 0) == 0
    # 1/3 % = 33.33… bp rounds to 33; 0.5 bp ties go to the even neighbour
    assert change_basis_points(30001, 30000) == 0
    assert change_basis_points(20001, 20000) == 0  # exactly 0.5 bp → 0 (even)
    assert change_basis_points(20003, 20000) == 2  # exactly 1.5 bp → 2 (even)
    assert format_basis_points(-1099) == "-10.99"
    assert format_basis_points(5) == "0.05"
