"""Prometheus metrics of every Samooh process, defined once here (the dashboards and alert
rules in ops/ use exactly these names). The web process serves them at ``GET /metrics``
(``install_metrics``, app/http_metrics.py); a worker on ``worker_metrics_port``
(agents/metrics.py)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "samooh_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "samooh_http_request_seconds", "HTTP request latency in seconds", ["method", "route"]
)
SOCKET_CONNECTIONS = Gauge("samooh_socket_connections", "Open Socket.IO connections")
SOCKET_EVENTS = Counter("samooh_socket_events_total", "Socket.IO events received", ["event"])

# Payments. Webhook deliveries by result (``accepted``, ``duplicate``, ``invalid_signature``…)
# are ``samooh_payment_webhooks_total`` (app/payments/service.py).
PAYMENT_OUTCOMES = Counter(
    "samooh_payment_outcomes_total",
    "Payment outcomes published to the payments topic, by provider and kind "
    "(payment.captured, payment.failed, …)",
    ["provider", "kind"],
)
PAYOUTS = Counter(
    "samooh_payouts_total",
    "Payouts asked of the payout provider, by result: the provider's status (processed, "
    "queued, failed, reversed…), rejected (refused) or unavailable (no answer)",
    ["provider", "result"],
)
OUTBOX_PENDING = Gauge(
    "samooh_payment_outbox_pending", "Payment outcomes stored and not yet published"
)
OUTBOX_OLDEST_PENDING_SECONDS = Gauge(
    "samooh_payment_outbox_oldest_pending_seconds",
    "Age of the oldest payment outcome still pending (0 when none is)",
)

# Workers.
KAFKA_CONSUMER_LAG = Gauge(
    "samooh_kafka_consumer_lag",
    "Records of a topic not yet consumed by the worker group (end offset minus committed "
    "offset, summed over partitions), per agent reading it",
    ["agent", "topic"],
)
