"""The single Faust application and its topic objects. Agents live in ``agents/``.

Creating the app connects to nothing: the broker is reached when a worker starts.
"""

from __future__ import annotations

import faust

from app.config import get_settings
from streams import topics

settings = get_settings()


def _broker_url(bootstrap_servers: str) -> str:
    # Faust separates several brokers with ';' where Kafka clients use ','.
    hosts = [host.strip() for host in bootstrap_servers.split(",") if host.strip()]
    return ";".join(f"kafka://{host}" for host in hosts)


app = faust.App(
    settings.worker_id,
    broker=_broker_url(settings.kafka_bootstrap_servers),
    value_serializer="json",
    store="memory://",
    datadir=settings.worker_data_dir,
    autodiscover=False,
    web_enabled=False,
    web_port=settings.worker_web_port,
    # After a crash the restarted worker takes the dead member's partitions back in ~9 s
    # instead of ~60 s (docs/local-services.md).
    broker_session_timeout=10,
    topic_allow_declare=False,
    topic_disable_leader=True,
)


def _topic(spec: topics.TopicSpec) -> faust.TopicT:
    """The Faust topic of ``spec``: keys are strings, values its record type."""
    return app.topic(spec.name, key_type=str, value_type=spec.record, partitions=spec.partitions)


market_ticks = _topic(topics.MARKET_TICKS)
payment_events = _topic(topics.PAYMENT_EVENTS)
report_jobs = _topic(topics.REPORT_JOBS)
order_commands = _topic(topics.ORDER_COMMANDS)
order_fills = _topic(topics.ORDER_FILLS)
