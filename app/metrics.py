"""Prometheus metrics of the web process, exposed at ``GET /metrics``."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from quart import Quart, Response, g, request

HTTP_REQUESTS = Counter(
    "samooh_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "samooh_http_request_seconds", "HTTP request latency in seconds", ["method", "route"]
)
SOCKET_CONNECTIONS = Gauge("samooh_socket_connections", "Open Socket.IO connections")
SOCKET_EVENTS = Counter("samooh_socket_events_total", "Socket.IO events received", ["event"])


def install_metrics(app: Quart) -> None:
    """Time every request and serve ``/metrics`` in the Prometheus text format."""

    @app.before_request
    async def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    async def _observe(response: Response) -> Response:
        started = getattr(g, "metrics_started", None)
        # The matched rule, not the raw path, so ids in URLs do not explode the label set.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        if started is not None:
            HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), content_type=CONTENT_TYPE_LATEST)
