"""Consumer lag of a consumer group: how many records of each topic it has not consumed yet
(the end offset minus the group's committed offset, summed over partitions)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def consumer_lag(
    bootstrap_servers: str, group_id: str, topics: dict[str, int], timeout_ms: int = 10_000
) -> dict[str, int]:
    """Lag of ``group_id`` per topic of ``topics`` (name → partition count), in records.

    A partition the group never committed counts from offset 0 (all its records are lag).
    Raises ``aiokafka.errors.KafkaError`` when the broker cannot be reached.
    """
    partitions = [TopicPartition(name, p) for name, count in topics.items() for p in range(count)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
        request_timeout_ms=timeout_ms,
    )  # fmt: skip
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    lag = dict.fromkeys(topics, 0)
    for tp, end in ends.items():
        done = committed.get(tp)
        offset = done.offset if done is not None and done.offset >= 0 else 0
        lag[tp.topic] += max(0, end - offset)
    return lag
