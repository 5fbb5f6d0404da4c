"""Daily history and indices from the stored candles (real data, exact to the cent)."""

from __future__ import annotations

import pytest
from quart import Quart

from app.config import Settings
from app.extensions import Services
from app.web import create_app


@pytest.fixture(scope="module")
async def app(settings: Settings, services: Services) -> Quart:
    return create_app(settings)


async def test_history_returns_the_real_candles_of_the_range(app: Quart) -> None:
    response = await app.test_client().get(
        "/api/v1/market/history/fb", query_string={"start": "2012-05-17", "end": "2012-05-22"}
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert (body["symbol"], body["currency"]) == ("FB", "USD")
    assert "bokeh-sampledata" in body["source"]
    assert body["candles"] == [
        {"date": "2012-05-18", "open": "42.05", "high": "45.00", "low": "38.00",
         "close": "38.23", "volume": 573576400},
        {"date": "2012-05-21", "open": "36.53", "high": "36.66", "low": "33.00",
         "close": "34.03", "volume": 168192700},
        {"date": "2012-05-22", "open": "32.61", "high": "33.59", "low": "30.94",
         "close": "31.00", "volume": 101786600},
    ]  # fmt: skip


async def test_history_across_years_is_ordered_and_complete(app: Quart) -> None:
    response = await app.test_client().get(
        "/api/v1/market/history/SP500", query_string={"start": "2011-12-28", "end": "2012-01-04"}
    )
    candles = (await response.get_json())["candles"]
    assert [c["date"] for c in candles] == [
        "2011-12-28", "2011-12-29", "2011-12-30", "2012-01-03", "2012-01-04"]  # fmt: skip
    assert all(c["volume"] is None for c in candles)


@pytest.mark.parametrize(
    ("symbol", "query", "status", "code"),
    [
        ("FB", {"start": "2012-05-22", "end": "2012-05-18"}, 422, "invalid_range"),
        ("FB", {"start": "2000-01-01", "end": "2012-05-18"}, 422, "invalid_range"),
        ("FB", {"start": "yesterday", "end": "2012-05-18"}, 422, "validation_error"),
        ("FB", {"end": "2012-05-18"}, 422, "validation_error"),
        ("NOPE", {"start": "2012-05-18", "end": "2012-05-22"}, 404, "unknown_symbol"),
        ("A" * 40, {"start": "2012-05-18", "end": "2012-05-22"}, 422, "validation_error"),
    ],
)
async def test_bad_history_requests_get_clear_errors(
    app: Quart, symbol: str, query: dict[str, str], status: int, code: str
) -> None:
    response = await app.test_client().get(f"/api/v1/market/history/{symbol}",
                                           query_string=query)  # fmt: skip
    assert response.status_code == status
    assert (await response.get_json())["error"]["code"] == code


async def test_indices_list_the_index_with_its_latest_level(app: Quart) -> None:
    body = await (await app.test_client().get("/api/v1/market/indices")).get_json()
    assert [i["symbol"] for i in body["indices"]] == ["SP500"]
    assert body["indices"][0]["name"] == "S&P 500 Index"
