"""Instruments of these tests' own (USD), so no other test's ticks reach their alerts and
paper orders while they run (the live worker and the database are shared by the session)."""

from __future__ import annotations

import pytest

from app.extensions import Services
from app.market import repository

SYMBOLS = ("RT19A", "RT19B", "RT19C", "RT19D", "RT19E")


@pytest.fixture(autouse=True)
async def own_instruments(services: Services) -> None:
    """Make ``SYMBOLS`` instruments (idempotent)."""
    await repository.upsert_instruments([
        {"symbol": s, "name": f"Realtime test {s}", "currency": "USD", "is_index": False,
         "source": "test", "first_date": "2012-06-01", "last_date": "2012-06-01"}
        for s in SYMBOLS
    ])  # fmt: skip
