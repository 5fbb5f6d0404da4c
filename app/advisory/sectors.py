"""Sectors of the replayed stocks (GICS sectors as the companies were classified in the data's
years), used to find a tax-loss harvesting replacement in the same sector."""

from __future__ import annotations

SECTORS: dict[str, str] = {
    "AAPL": "Information Technology",
    "AMD": "Information Technology",
    "IBM": "Information Technology",
    "MSFT": "Information Technology",
    "GOOG": "Information Technology",
    "FB": "Information Technology",
    "BAC": "Financials",
    "JPM": "Financials",
    "BBY": "Consumer Discretionary",
    "HD": "Consumer Discretionary",
    "CVX": "Energy",
    "XOM": "Energy",
    "RRC": "Energy",
    "GE": "Industrials",
    "JNJ": "Health Care",
    "LLY": "Health Care",
    "MRK": "Health Care",
    "PFE": "Health Care",
    "UNH": "Health Care",
    "KO": "Consumer Staples",
    "PEP": "Consumer Staples",
    "PG": "Consumer Staples",
    "WMT": "Consumer Staples",
}
