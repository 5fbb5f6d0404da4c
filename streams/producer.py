"""Typed producer helpers for processes that are not Faust workers (web server, replayer).

Records are serialised exactly as Faust serialises them (JSON with the ``__faust`` namespace),
so agents read what these helpers write.
"""

from __future__ import annotations

import faust
from aiokafka import AIOKafkaProducer

from app.telemetry import producer_span
from streams.topics import TopicSpec


class EventProducer:
    """One Kafka producer per process. Create and ``start()`` it inside the running event loop.

    ``acks="all"`` and idempotence on: a record acknowledged by ``send`` is on the broker once.
    """

    def __init__(self, bootstrap_servers: str, client_id: str = "samooh") -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
        )

    async def start(self) -> None:
        """Connect to the cluster. Raises ``aiokafka.errors.KafkaConnectionError`` if it is down."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush what is pending and disconnect."""
        await self._producer.stop()

    async def send(self, topic: TopicSpec, key: str, record: faust.Record) -> None:
        """Send ``record`` to ``topic`` keyed by ``key``; wait for the broker to acknowledge it.
        The current trace context goes in the record's headers (``traceparent``)."""
        if topic.record is not None and not isinstance(record, topic.record):
            raise TypeError(f"{topic.name} carries {topic.record.__name__}, not {type(record)}")
        with producer_span(topic.name, key) as headers:  # the trace travels in the headers
            await self._producer.send_and_wait(
                topic.name, value=record.dumps(serializer="json"), key=key.encode(),
                headers=headers or None,
            )  # fmt: skip

    async def send_many(self, topic: TopicSpec, items: list[tuple[str, faust.Record]]) -> None:
        """Send a batch of ``(key, record)`` pairs, then wait until all are acknowledged."""
        futures = []
        for key, record in items:
            with producer_span(topic.name, key) as headers:
                futures.append(
                    await self._producer.send(
                        topic.name, value=record.dumps(serializer="json"), key=key.encode(),
                        headers=headers or None,
                    )
                )  # fmt: skip
        for future in futures:
            await future
