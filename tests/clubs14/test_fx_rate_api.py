"""Issue #14: ``GET /api/v1/fx/rate`` answers the ECB reference rate of a day (the one the
proposal form estimates a foreign stock's cost with), as an eight-place decimal string with the
day it was published and the broker FX margin an order's hold adds; bad input is a 422 in the
JSON error shape, never a 500. Figures worked by hand from the ECB's published euro rates."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from quart import Quart

from app.config import Settings, get_settings
from app.web import create_app


@pytest.fixture(scope="module")
async def app(settings: Settings, services: object) -> Quart:
    return create_app(settings)


async def get(app: Quart, query: str) -> tuple[int, Any]:
    response = await app.test_client().get(f"/api/v1/fx/rate?{query}")
    return response.status_code, await response.get_json()


async def test_the_rate_of_a_weekend_day_is_the_friday_one(app: Quart) -> None:
    # Sunday 8 March 2026: the ECB published nothing; Friday the 6th had USD 1.1561 and INR
    # 106.1745 per euro, so a dollar was 106.1745 ÷ 1.1561 = 91.838508779… rupees.
    status, body = await get(app, "base=USD&quote=INR&on=2026-03-08")
    assert status == 200, body
    assert round(Fraction("106.1745") / Fraction("1.1561") * 10**8) == 9_183_850_878
    assert body == {
        "base": "USD", "quote": "INR", "on": "2026-03-08", "rate_date": "2026-03-06",
        "rate": "91.83850878", "source": "ECB euro foreign exchange reference rates",
        "broker_fx_margin_bps": get_settings().broker_fx_margin_bps,
    }  # fmt: skip
    # The other way round, codes in any case: 1.1561 ÷ 106.1745 = 0.010888678…
    status, body = await get(app, "base=inr&quote=usd&on=2026-03-06")
    assert (status, body["rate"], body["rate_date"]) == (200, "0.01088868", "2026-03-06")
    # Without a day: today's (or the bundled file's last day's).
    status, body = await get(app, "base=USD&quote=INR")
    assert status == 200 and body["rate_date"] <= body["on"], body


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("base=USD&quote=XYZ&on=2026-03-06", "fx_rate_unavailable"),  # not an ECB currency
        ("base=USD&quote=INR&on=1998-12-31", "fx_rate_unavailable"),  # before the euro
        ("base=USD&quote=INR&on=0001-01-01", "fx_rate_unavailable"),
        ("base=US&quote=INR", "validation_error"),
        ("base=USD&quote=INR&on=yesterday", "validation_error"),
        ("quote=INR", "validation_error"),
    ],
)
async def test_bad_input_is_a_422_that_names_why(app: Quart, query: str, code: str) -> None:
    status, body = await get(app, query)
    assert (status, body["error"]["code"]) == (422, code), body


async def test_the_endpoint_is_in_the_openapi_document(app: Quart) -> None:
    document = await (await app.test_client().get("/openapi.json")).get_json()
    operation = document["paths"]["/api/v1/fx/rate"]["get"]
    assert {"200", "422"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {"base", "quote", "on"}
