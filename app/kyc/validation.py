"""Formats and check digits of Indian KYC document numbers, and how they are shown.

* PAN (Income Tax Department): ``AAAAA9999A`` — five letters, four digits, a letter; the 4th
  letter is the holder type (P person, C company, H HUF, F firm, A AOP, T trust, B BOI,
  L local authority, J artificial juridical person, G government).
* Aadhaar (UIDAI): 12 digits, not starting with 0 or 1, the last a Verhoeff check digit.
* Driving licence (Sarathi): state code, 2-digit RTO, 4-digit year of issue, 7 digits.
"""

from __future__ import annotations

import re

PAN_RE = re.compile(r"^[A-Z]{5}[0-9]{4}[A-Z]$")
PAN_HOLDER_TYPES = frozenset("PCHFATBLJG")
AADHAAR_RE = re.compile(r"^[2-9][0-9]{11}$")
DRIVING_LICENCE_RE = re.compile(r"^[A-Z]{2}[0-9]{2}(19|20)[0-9]{2}[0-9]{7}$")

# Verhoeff's dihedral-group tables (J. Verhoeff, 1969): multiplication, permutation, inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)  # fmt: skip
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)  # fmt: skip
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def verhoeff_valid(digits: str) -> bool:
    """Whether the last digit of ``digits`` is its Verhoeff check digit."""
    if not digits.isdigit():
        return False
    check = 0
    for i, digit in enumerate(reversed(digits)):
        check = _D[check][_P[i % 8][int(digit)]]
    return check == 0


def verhoeff_digit(digits: str) -> str:
    """The Verhoeff check digit to append to ``digits`` (``"236"`` → ``"3"``)."""
    check = 0
    for i, digit in enumerate(reversed(digits)):
        check = _D[check][_P[(i + 1) % 8][int(digit)]]
    return str(_INV[check])


def normalise(number: str) -> str:
    """Upper case without spaces, hyphens or dots (how people type document numbers)."""
    return re.sub(r"[\s\-.]", "", number).upper()


def pan_problem(pan: str) -> str | None:
    """Why ``pan`` (normalised) is not a PAN, or None."""
    if not PAN_RE.match(pan):
        return "a PAN is five letters, four digits and a letter (AAAAA9999A)"
    if pan[3] not in PAN_HOLDER_TYPES:
        return "the 4th letter of a PAN is the holder type (P for a person)"
    return None


def aadhaar_problem(aadhaar: str) -> str | None:
    """Why ``aadhaar`` (normalised) is not an Aadhaar number, or None. The message never
    contains the number."""
    if not AADHAAR_RE.match(aadhaar):
        return "an Aadhaar number is 12 digits and does not start with 0 or 1"
    if not verhoeff_valid(aadhaar):
        return "this Aadhaar number's check digit does not match (a typo?)"
    return None


def driving_licence_problem(number: str) -> str | None:
    """Why ``number`` (normalised) is not a driving licence number, or None."""
    if not DRIVING_LICENCE_RE.match(number):
        return "a driving licence number is like MH-0220110012345 (state, RTO, year, 7 digits)"
    return None


def last4(number: str) -> str:
    """The last four characters."""
    return number[-4:]


def masked(kind: str, number_last4: str) -> str:
    """How a number is shown where it may not be shown whole: Aadhaar ``XXXX XXXX 1234``,
    others ``••••1234``."""
    if kind == "aadhaar":
        return f"XXXX XXXX {number_last4}"
    return f"••••{number_last4}"
