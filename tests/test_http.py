"""HTTP basics against the real services: health, readiness, errors, OpenAPI, metrics."""

from __future__ import annotations

import pytest
from quart import Quart
from redis.asyncio import Redis

from app.config import Settings
from app.extensions import Services
from app.web import create_app
from tests.conftest import free_port


@pytest.fixture(scope="module")
async def app(settings: Settings, services: Services) -> Quart:
    return create_app(settings)


async def test_health_answers_without_services(settings: Settings) -> None:
    response = await create_app(settings).test_client().get("/api/health")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_ready_checks_every_service(app: Quart) -> None:
    response = await app.test_client().get("/api/ready")
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"mongodb", "kafka", "redis"}
    assert all(check["ok"] for check in body["checks"].values())


async def test_ready_names_the_service_that_fails(app: Quart, services: Services) -> None:
    healthy = services.redis
    services.redis = Redis(port=free_port(), socket_connect_timeout=1)
    try:
        response = await app.test_client().get("/api/ready")
    finally:
        await services.redis.aclose()
        services.redis = healthy
    body = await response.get_json()
    assert response.status_code == 503
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["details"]["failed"] == ["redis"]
    assert body["error"]["details"]["checks"]["mongodb"]["ok"] is True


async def test_unknown_route_gets_the_json_error_shape(app: Quart) -> None:
    response = await app.test_client().get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = await response.get_json()
    assert body["error"]["code"] == "not_found"
    assert set(body["error"]) == {"code", "message", "details"}


async def test_wrong_method_is_a_json_405(app: Quart) -> None:
    response = await app.test_client().delete("/api/health")
    assert response.status_code == 405
    assert (await response.get_json())["error"]["code"] == "method_not_allowed"


async def test_symbols_list_the_catalogue_with_sources(app: Quart) -> None:
    response = await app.test_client().get("/api/v1/market/symbols")
    assert response.status_code == 200
    symbols = {item["symbol"]: item for item in (await response.get_json())["symbols"]}
    assert len(symbols) == 28  # 24 US series and 4 synthetic NSE ones
    assert symbols["INFY"]["currency"] == "INR" and "synthetic" in symbols["INFY"]["source"]
    assert symbols["FB"]["first_date"] == "2012-05-18"
    assert "bokeh-sampledata" in symbols["FB"]["source"]
    assert symbols["SP500"]["is_index"] is True


async def test_quote_of_an_unknown_symbol_is_404(app: Quart) -> None:
    response = await app.test_client().get("/api/v1/market/quotes/NOPE")
    assert response.status_code == 404
    body = await response.get_json()
    assert body["error"]["code"] == "unknown_symbol"
    assert body["error"]["details"] == {"symbols": ["NOPE"]}


async def test_openapi_describes_the_api_and_docs_use_local_assets(app: Quart) -> None:
    client = app.test_client()
    spec = await (await client.get("/openapi.json")).get_json()
    assert spec["info"]["title"] == "Samooh API"
    for path in ("/api/health", "/api/ready", "/api/v1/market/symbols"):
        assert path in spec["paths"], path
    assert "/api/v1/market/quotes/{symbol}" in spec["paths"]
    # Every operationId names one operation (two domains' handlers named alike are told apart
    # by their paths): a document that repeats one is invalid, and generators refuse it.
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()
           if isinstance(op, dict) and "operationId" in op]  # fmt: skip
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert {"post_clubs_club_id_messages", "post_admin_broadcasts"} <= set(ids)
    docs = (await (await client.get("/api-docs")).get_data()).decode()
    assert "/vendor/swagger/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    asset = await client.get("/vendor/swagger/swagger-ui-bundle.js")
    assert asset.status_code == 200, "web client not built: run `make web`"


async def test_metrics_count_requests(app: Quart) -> None:
    client = app.test_client()
    await client.get("/api/health")
    text = (await (await client.get("/metrics")).get_data()).decode()
    assert 'samooh_http_requests_total{method="GET",route="/api/health",status="200"}' in text
    assert "samooh_http_request_seconds_bucket" in text


async def test_a_service_down_mid_request_is_a_503_naming_it(
    app: Quart, services: Services
) -> None:
    healthy = services.redis
    services.redis = Redis(port=free_port(), socket_connect_timeout=1)
    try:
        response = await app.test_client().get("/api/v1/market/quotes/AAPL")
    finally:
        await services.redis.aclose()
        services.redis = healthy
    body = await response.get_json()
    assert response.status_code == 503
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["details"] == {"service": "Redis"}


@pytest.mark.parametrize("symbol", ["A" * 10_000, "%00", "💥", "../etc"])
async def test_impossible_symbols_are_refused_without_echo(app: Quart, symbol: str) -> None:
    response = await app.test_client().get(f"/api/v1/market/quotes/{symbol}")
    body = await response.get_json()
    assert response.status_code in (404, 422)
    if response.status_code == 422:
        assert body["error"]["code"] == "validation_error"
    assert len(await response.get_data()) < 500  # never the input echoed back


async def test_the_favicon_is_served(app: Quart) -> None:
    response = await app.test_client().get("/favicon.svg")
    assert response.status_code == 200
    assert b"<svg" in await response.get_data()


async def test_pages_carry_security_headers(app: Quart) -> None:
    page = await app.test_client().get("/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    api = await app.test_client().get("/api/health")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
