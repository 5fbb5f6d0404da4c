"""``GET /metrics`` of the web process and the timing of every HTTP request (the metrics
themselves are defined in app/metrics.py)."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from quart import Quart, Response, g, request

from app.metrics import HTTP_LATENCY, HTTP_REQUESTS


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
