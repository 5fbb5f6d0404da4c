"""Creates the declared topics before anything produces or subscribes (an auto-created topic is
ignored by a Faust worker that started before it existed — docs/local-services.md)."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams.topics import ALL_TOPICS, TopicSpec


async def ensure_topics(
    bootstrap_servers: str,
    specs: tuple[TopicSpec, ...] = ALL_TOPICS,
    replication_factor: int = 1,
    timeout_ms: int = 10_000,
) -> list[str]:
    """Create every topic in ``specs`` that does not exist yet; return the names it created.

    Idempotent. Raises ``aiokafka.errors.KafkaError`` (or a subclass) when the broker cannot be
    reached within ``timeout_ms``.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        # Another process may create one between our list and our create.
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [NewTopic(s.name, s.partitions, replication_factor) for s in missing],
                timeout_ms=timeout_ms,
            )
        return [spec.name for spec in missing]
    finally:
        await admin.close()
