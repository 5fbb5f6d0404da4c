"""Traces and error reports for every process (web server, worker), set up once at start.

Traces (OpenTelemetry): spans of HTTP requests (ASGI), outgoing HTTP (aiohttp), PyMongo and
Redis commands, Kafka sends and agent work, exported over OTLP/HTTP to
``settings.otlp_endpoint``. The trace context travels in Kafka record headers (W3C
``traceparent``), and a checkout keeps the context of the request that created it so the
provider's webhook continues the same trace: one contribution is one trace, from the member's
click to the socket event (README, "Operations"). Off unless an endpoint is set (or
``settings.tracing`` is true).

Errors (Sentry's SDK): unexpected exceptions are reported to ``settings.sentry_dsn``; off without
a DSN. ``scrub_event`` removes money and personal data before anything leaves the process.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sentry_sdk
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Tracer

from app.config import Settings

TRACER_NAME = "samooh"

_provider: TracerProvider | None = None
_instrumentors: list[Any] = []


def setup_tracing(
    settings: Settings, service: str, *, exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """Start tracing for this process (``service``: ``web`` or ``worker``), once.

    Spans go to ``settings.otlp_endpoint`` (OTLP over HTTP, ``<endpoint>/v1/traces``) in
    batches, and to ``exporter`` one by one when given (tests pass an in-memory exporter).
    Returns the provider, or ``None`` when tracing is off (no endpoint, ``tracing`` false, no
    exporter): then nothing is instrumented and trace ids are absent from logs and errors.
    """
    global _provider
    if _provider is not None:
        if exporter is not None:
            _provider.add_span_processor(SimpleSpanProcessor(exporter))
        return _provider
    if not (settings.otlp_endpoint or settings.tracing or exporter is not None):
        return None
    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": f"{settings.app_name}-{service}",
                "service.namespace": settings.app_name,
                "deployment.environment.name": settings.environment,
            }
        ),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    if settings.otlp_endpoint:
        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), schedule_delay_millis=500)
        )
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    for instrumentor in (PymongoInstrumentor(), RedisInstrumentor(), AioHttpClientInstrumentor()):
        instrumentor.instrument(tracer_provider=provider)
        _instrumentors.append(instrumentor)
    _provider = provider
    return provider


def shutdown_tracing() -> None:
    """Flush pending spans and stop exporting (process exit)."""
    if _provider is not None:
        _provider.shutdown()


def wrap_asgi(asgi_app: Any) -> Any:
    """``asgi_app`` with a server span per HTTP request when tracing is on; unchanged if off.
    ``/metrics`` and the health probes are not traced (scraped every few seconds)."""
    if _provider is None:
        return asgi_app
    return OpenTelemetryMiddleware(
        asgi_app,
        excluded_urls="/metrics,/api/ready,/api/health,/assets/",
        tracer_provider=_provider,
    )


def tracer() -> Tracer:
    """The tracer of Samooh's own spans (a no-op tracer when tracing is off)."""
    if _provider is not None:
        return _provider.get_tracer(TRACER_NAME)
    return trace.get_tracer(TRACER_NAME)


def current_trace_id() -> str | None:
    """The 32-hex-digit id of the trace being recorded now, or ``None`` outside any span."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return format(span_context.trace_id, "032x")


def trace_carrier() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``; empty outside a span), to
    store with something that continues later (a checkout awaiting its webhook)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def kafka_headers() -> list[tuple[str, bytes]]:
    """The current trace context as Kafka record headers (``[("traceparent", b"00-…")]``)."""
    return [(name, value.encode()) for name, value in trace_carrier().items()]


def _header_map(headers: Mapping[str, Any] | Sequence[tuple[str, Any]] | None) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else (headers or [])
    found: dict[str, str] = {}
    for name, value in items:
        found[str(name).lower()] = value.decode() if isinstance(value, bytes) else str(value)
    return found


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span]:
    """A span of Samooh's own work, child of the current one."""
    with tracer().start_as_current_span(name, kind=kind, attributes=attributes) as current:
        yield current


@contextlib.contextmanager
def continued_span(
    name: str,
    carrier: Mapping[str, str] | None,
    *,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span]:
    """A span continuing the trace stored in ``carrier`` (``trace_carrier()`` of an earlier
    request), linked to the current span; a plain child span when ``carrier`` is empty."""
    current = trace.get_current_span()
    links = [trace.Link(current.get_span_context())] if current.get_span_context().is_valid else []
    parent = propagate.extract(dict(carrier)) if carrier else None
    with tracer().start_as_current_span(
        name, context=parent, links=links, attributes=attributes
    ) as started:
        yield started


@contextlib.contextmanager
def producer_span(topic: str, key: str) -> Iterator[list[tuple[str, bytes]]]:
    """A PRODUCER span around one Kafka send; yields the record headers carrying it."""
    attributes = {"messaging.system": "kafka", "messaging.destination.name": topic,
                  "messaging.kafka.message.key": key}  # fmt: skip
    with tracer().start_as_current_span(
        f"send {topic}", kind=SpanKind.PRODUCER, attributes=attributes
    ):
        yield kafka_headers()


@contextlib.contextmanager
def consumer_span(
    name: str, topic: str, headers: Mapping[str, Any] | Sequence[tuple[str, Any]] | None
) -> Iterator[Span]:
    """A CONSUMER span for one record, continuing the trace its headers carry (a new trace
    when they carry none). Everything the agent does for the record is inside it."""
    parent = propagate.extract(_header_map(headers))
    token = otel_context.attach(parent)
    try:
        with tracer().start_as_current_span(
            name,
            kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
        ) as started:
            yield started
    finally:
        otel_context.detach(token)


# --- error reports ------------------------------------------------------------------------

# Keys whose values never leave the process: money, people, secrets (matched on the key's
# name, case-insensitively, anywhere in the event: request data, extra, contexts, locals).
SCRUBBED_KEYS = re.compile(
    r"amount|paise|balance|price|value|cash|fee|payout|units|nav|total|money|salary|income|"
    r"email|e_mail|phone|mobile|name|address|pan|aadhaar|dob|birth|account|ifsc|upi|"
    r"token|secret|password|passwd|otp|code|authorization|cookie|session|signature|key|dsn|"
    r"card|cvv",
    re.IGNORECASE,
)
FILTERED = "[Filtered]"
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+?\d[\d ()-]{8,}\d")
_MONEY = re.compile(r"(₹|Rs\.?|INR|USD|\$)\s?\d[\d,]*(\.\d+)?|\b\d[\d,]*\.\d{2}\b")
# Structural keys of Sentry's event whose values are names of code, not data.
_KEEP = frozenset(
    {"event_id", "level", "platform", "logger", "transaction", "release", "environment",
     "server_name", "type", "module", "function", "filename", "abs_path", "lineno", "in_app",
     "mechanism", "handled", "timestamp", "contexts", "trace_id", "span_id", "sdk",
     "integrations", "packages", "version", "runtime", "os", "modules", "stacktrace",
     "frames", "exception", "values", "breadcrumbs", "category", "message", "method", "url",
     "query_string", "status_code", "tags", "extra", "request", "data", "headers", "env",
     "vars", "context_line", "pre_context", "post_context", "user", "id", "trace",
     "transaction_info", "source", "op", "parent_span_id", "status", "description",
     "fingerprint", "threads", "logentry", "formatted", "params", "colno", "package", "value"}
)  # fmt: skip
# Identifiers and code positions: kept as they are (a long hex id is not a phone number).
_VERBATIM = frozenset(
    {"event_id", "trace_id", "span_id", "parent_span_id", "timestamp", "start_timestamp",
     "version", "lineno", "colno", "release", "modules", "packages", "sdk", "abs_path",
     "filename", "function", "module"}
)  # fmt: skip


def _scrub_text(text: str) -> str:
    text = _EMAIL.sub(FILTERED, text)
    text = _MONEY.sub(FILTERED, text)
    return _PHONE.sub(FILTERED, text)


def _scrub(value: Any, key: str | None = None) -> Any:
    if key in _VERBATIM:
        return value
    if key is not None and key not in _KEEP and SCRUBBED_KEYS.search(key):
        return FILTERED
    if isinstance(value, dict):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def scrub_event(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry ``before_send``: the event without money or personal data.

    Values under keys naming money, people or secrets (``SCRUBBED_KEYS``: amounts, balances,
    e-mails, phones, names, PAN/Aadhaar, tokens, passwords, cookies…) become ``[Filtered]``
    wherever they are (request body, headers, query, locals of frames, extra, breadcrumbs);
    e-mail addresses, phone numbers and money amounts are also cut out of every free text
    (messages, exception values, breadcrumbs). ``user`` keeps only ``id``. Request bodies
    (``request.data``) are dropped whole: they may carry anything.
    """
    scrubbed: dict[str, Any] = _scrub(event)
    user = event.get("user")
    if isinstance(user, dict):
        scrubbed["user"] = {"id": str(user["id"])} if "id" in user else {}
    request = scrubbed.get("request")
    if isinstance(request, dict):
        if "data" in request:
            request["data"] = FILTERED
        if "cookies" in request:
            request["cookies"] = FILTERED
    return scrubbed


def _before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    scrubbed = scrub_event(event, hint)
    trace_id = current_trace_id()
    if trace_id is not None:  # find the event's trace in the tracing backend
        scrubbed.setdefault("tags", {})["trace_id"] = trace_id
    return scrubbed


def setup_error_reporting(settings: Settings, service: str, **options: Any) -> bool:
    """Report unexpected exceptions to ``settings.sentry_dsn``, with ``scrub_event`` applied
    and the trace id as a tag; nothing is set up without a DSN. Returns whether reporting is
    on. ``options`` go to ``sentry_sdk.init`` (tests pass a local ``transport``).

    What is reported: every log record at ERROR or above with its exception (the web server's
    "unhandled error", a crashed agent), and exceptions nothing caught. Only the default
    integrations run (no auto-enabled framework hooks), so each failure is reported once.
    """
    if settings.sentry_dsn is None:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        server_name=f"{settings.app_name}-{service}",
        include_local_variables=False,  # locals and source lines may hold data: never sent
        include_source_context=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        auto_enabling_integrations=False,
        before_send=_before_send,  # type: ignore[arg-type]
        before_breadcrumb=lambda crumb, _hint: _scrub(crumb),
        **options,
    )
    return True
