"""Error answers and log lines name their trace; unexpected errors are reported to Sentry's SDK
with money and personal data scrubbed (issue #22). In-process: the app's ASGI entry wrapped with
an in-memory span exporter, and Sentry's real client sending through a local transport."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from quart import Quart
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from app.config import Settings
from app.telemetry import FILTERED, scrub_event, setup_error_reporting
from app.web import create_app

PERSONAL = ("asha.rao@example.com", "98765 43210", "1,234.50", "123450", "Asha Rao",
            "secret-token-xyz", "ABCDE1234F")  # fmt: skip


class LocalTransport(Transport):
    """Keeps every envelope the SDK would send."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        found = [e.get_event() for e in self.envelopes]
        return [e for e in found if e is not None]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def transport() -> Iterator[LocalTransport]:
    local = LocalTransport()
    yield local
    sentry_sdk.init()  # no DSN: reporting off again for the rest of the session


@pytest.fixture
def log_lines() -> Iterator[tuple[io.StringIO, logging.Handler]]:
    """A stream and a handler for the root logger; the test gives the handler the app's own
    formatter once ``create_app`` configured logging (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    yield stream, handler
    logging.getLogger().removeHandler(handler)


def _traced_app(settings: Settings, spans: InMemorySpanExporter) -> Quart:
    app = create_app(settings)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app.asgi_app = OpenTelemetryMiddleware(app.asgi_app, tracer_provider=provider)  # type: ignore[method-assign]

    @app.get("/api/v1/test-boom")
    async def boom() -> str:
        sentry_sdk.set_user({"id": "u-42", "email": "asha.rao@example.com", "username": "Asha Rao"})
        sentry_sdk.set_context(
            "member", {"full_name": "Asha Rao", "phone": "+91 98765 43210", "pan": "ABCDE1234F"}
        )
        sentry_sdk.set_extra("payout", {"amount_paise": 123450, "amount": "1,234.50"})
        raise RuntimeError("payout of ₹1,234.50 to asha.rao@example.com (+91 98765 43210) failed")

    return app


async def test_an_unexpected_error_names_its_trace_in_the_answer_the_log_and_the_report(
    settings: Settings,
    spans: InMemorySpanExporter,
    transport: LocalTransport,
    log_lines: Any,
) -> None:
    settings = settings.model_copy(
        update={"sentry_dsn": SecretStr("http://public@127.0.0.1:9/1"), "log_json": True}
    )
    app = _traced_app(settings, spans)
    assert setup_error_reporting(settings, "web", transport=transport)
    stream, handler = log_lines
    root = logging.getLogger()
    handler.setFormatter(root.handlers[0].formatter)
    root.addHandler(handler)

    client = app.test_client()
    reply = await client.get(
        "/api/v1/test-boom?email=asha.rao@example.com",
        headers={"Authorization": "Bearer secret-token-xyz", "Cookie": "sid=secret-token-xyz"},
    )
    body = await reply.get_json()
    assert reply.status_code == 500 and body["error"]["code"] == "internal_error"
    trace_id = body["error"]["details"]["trace_id"]
    [server_span] = [s for s in spans.get_finished_spans() if s.kind.name == "SERVER"]
    assert format(server_span.context.trace_id, "032x") == trace_id

    # The log line of the failure carries the trace id.
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    [logged] = [line for line in lines if line.get("event") == "unhandled error"]
    assert logged["trace_id"] == trace_id and len(logged["span_id"]) == 16

    # One report, of the real exception, tagged with the trace, with nothing personal in it.
    sentry_sdk.flush()
    [event] = transport.events()
    assert event["tags"]["trace_id"] == trace_id
    [exception] = event["exception"]["values"]
    assert exception["type"] == "RuntimeError" and exception["value"].startswith("payout of")
    assert FILTERED in exception["value"]
    assert event["user"] == {"id": "u-42"}
    assert event["contexts"]["member"] == {
        "full_name": FILTERED,
        "phone": FILTERED,
        "pan": FILTERED,
    }
    assert event["extra"]["payout"] == FILTERED
    text = json.dumps(event, ensure_ascii=False)
    for value in PERSONAL:
        assert value not in text, (value, text[max(0, text.find(value) - 300) :][:600])

    # An expected error (AppError, 404) names its trace too.
    missing = await client.get("/api/v1/clubs/000000000000000000000000/nothing-here")
    missing_body = await missing.get_json()
    assert missing.status_code == 404
    assert len(missing_body["error"]["details"]["trace_id"]) == 32


async def test_without_a_trace_the_answer_has_no_trace_id(settings: Settings) -> None:
    reply = await create_app(settings).test_client().get("/api/v1/nothing-here")
    assert "trace_id" not in (await reply.get_json())["error"]["details"]


def test_scrubbing_a_request_shaped_event() -> None:
    event = {
        "event_id": "0123456789abcdef0123456789abcdef",
        "message": "contribution of 5000.00 INR from +919876543210 refused",
        "request": {
            "url": "http://x/api/v1/clubs/1/contributions",
            "method": "POST",
            "query_string": "email=asha.rao@example.com",
            "headers": {"Authorization": "Bearer secret-token-xyz", "X-Request-Id": "r1"},
            "cookies": {"sid": "secret-token-xyz"},
            "data": {"amount": "1,234.50", "note": "Asha Rao"},
        },
        "contexts": {"trace": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}},
        "breadcrumbs": {"values": [{"message": "mail to asha.rao@example.com", "data": {
            "balance_paise": 123450, "otp": "804211"}}]},
    }  # fmt: skip
    scrubbed = scrub_event(event)
    text = json.dumps(scrubbed, ensure_ascii=False)
    for value in (*PERSONAL, "5000.00", "+919876543210", "804211"):
        assert value not in text, value
    assert scrubbed["request"]["headers"] == {"Authorization": FILTERED, "X-Request-Id": "r1"}
    assert scrubbed["request"]["data"] == FILTERED
    assert scrubbed["contexts"]["trace"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert scrubbed["event_id"] == event["event_id"]
    assert scrubbed["request"]["method"] == "POST"
