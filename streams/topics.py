"""Every Kafka topic, declared once: name, partitions, key and record (ARCHITECTURE.md table).

Names are ``<prefix>.<domain>.<what>.v<N>``; the prefix (``SAMOOH_TOPIC_PREFIX``) lets several
environments share one cluster. Producers (web, replayer) and agents import these specs.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from app.config import get_settings
from streams.records import MarketTickV1, PaymentEventV1


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's contract: full ``name``, ``partitions``, what the ``key`` is, its record type."""

    name: str
    partitions: int
    key: str
    record: type[faust.Record] | None


def _name(suffix: str) -> str:
    return f"{get_settings().topic_prefix}.{suffix}"


MARKET_TICKS = TopicSpec(_name("market.ticks.v1"), 4, "symbol", MarketTickV1)
PAYMENT_EVENTS = TopicSpec(_name("payments.events.v1"), 4, "pool id", PaymentEventV1)
ORDER_COMMANDS = TopicSpec(_name("orders.commands.v1"), 4, "club id", None)
ORDER_FILLS = TopicSpec(_name("orders.fills.v1"), 4, "club id", None)
NOTIFICATIONS = TopicSpec(_name("notifications.v1"), 4, "user id", None)
REPORT_JOBS = TopicSpec(_name("reports.jobs.v1"), 2, "job id", None)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    MARKET_TICKS,
    PAYMENT_EVENTS,
    ORDER_COMMANDS,
    ORDER_FILLS,
    NOTIFICATIONS,
    REPORT_JOBS,
)
