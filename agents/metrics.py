"""Worker metrics: every ``metrics_interval_seconds`` the consumer lag of each agent's topics and
the payments outbox backlog are measured into the gauges of app/metrics.py, which the worker
serves in the Prometheus text format on ``worker_metrics_port`` (off when 0)."""

from __future__ import annotations

from prometheus_client import start_http_server

from agents.context import worker_context
from app.config import get_settings
from app.logging import get_logger
from app.metrics import KAFKA_CONSUMER_LAG
from app.payments.service import payment_service
from streams.app import app
from streams.lag import consumer_lag
from streams.topics import ALL_TOPICS

log = get_logger(__name__)
settings = get_settings()


def agent_topics() -> dict[str, list[str]]:
    """Each agent of this worker (its full name) → the topics it reads."""
    return {
        str(agent.name): [str(name) for name in getattr(agent.channel, "topics", ())]
        for agent in app.agents.values()
    }


async def observe() -> dict[str, int]:
    """Measure once: lag per topic into ``samooh_kafka_consumer_lag{agent, topic}`` (every
    agent reading a topic shares the group's committed offsets), and the outbox gauges.
    Returns the lag per topic."""
    partitions = {spec.name: spec.partitions for spec in ALL_TOPICS}
    readers = agent_topics()
    wanted = {t: partitions[t] for topics in readers.values() for t in topics if t in partitions}
    lag = await consumer_lag(settings.kafka_bootstrap_servers, settings.worker_id, wanted)
    for agent, topics in readers.items():
        for topic in topics:
            if topic in lag:
                KAFKA_CONSUMER_LAG.labels(agent, topic).set(lag[topic])
    await worker_context()
    await payment_service.observe_outbox()
    return lag


@app.task
async def serve_metrics() -> None:
    """Serve ``/metrics`` on ``worker_metrics_port`` (a thread of prometheus_client)."""
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port, addr=settings.worker_metrics_host)
        log.info("worker metrics served", port=settings.worker_metrics_port)


@app.timer(interval=settings.metrics_interval_seconds)
async def observe_periodically() -> None:
    """``observe()`` on a timer; a failed measurement is logged and tried again next time."""
    try:
        await observe()
    except Exception as exc:  # Kafka or MongoDB briefly away: the gauges keep their values
        log.warning("worker metrics not measured", error=str(exc)[:200])
