"""Every Kafka topic, declared once: name, partitions, key and record (docs/architecture.md).

Names are ``<prefix>.<domain>.<what>.v<N>``; the prefix (``SAMOOH_TOPIC_PREFIX``) lets several
environments share one cluster. Producers (web, replayer) and agents import these specs.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from app.config import get_settings
from streams.records import (
    BrokerUpdateV1,
    MarketTickV1,
    OrderCommandV1,
    PaymentEventV1,
    ReportJobV1,
)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's contract: ``suffix`` of its name, ``partitions``, what the ``key`` is, its
    record type. The full ``name`` adds the configured prefix when it is read (not at import,
    so importing this module never reads settings)."""

    suffix: str
    partitions: int
    key: str
    record: type[faust.Record] | None

    @property
    def name(self) -> str:
        """``<topic_prefix>.<suffix>``."""
        return f"{get_settings().topic_prefix}.{self.suffix}"


MARKET_TICKS = TopicSpec("market.ticks.v1", 4, "symbol", MarketTickV1)
PAYMENT_EVENTS = TopicSpec("payments.events.v1", 4, "pool id", PaymentEventV1)
ORDER_COMMANDS = TopicSpec("orders.commands.v1", 4, "club id", OrderCommandV1)
ORDER_FILLS = TopicSpec("orders.fills.v1", 4, "club id", BrokerUpdateV1)
NOTIFICATIONS = TopicSpec("notifications.v1", 4, "user id", None)
REPORT_JOBS = TopicSpec("reports.jobs.v1", 2, "job id", ReportJobV1)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    MARKET_TICKS,
    PAYMENT_EVENTS,
    ORDER_COMMANDS,
    ORDER_FILLS,
    NOTIFICATIONS,
    REPORT_JOBS,
)
