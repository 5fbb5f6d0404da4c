"""The process's connections to MongoDB, Redis and Kafka, opened inside the running loop.

``create_app()`` builds nothing here; ``connect_services()`` runs in Quart's ``before_serving``
(and in workers' start-up) and fails fast with ``ServiceStartupError`` naming the service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from aiokafka.admin import AIOKafkaAdminClient
from beanie import init_beanie
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from app.config import Settings
from app.errors import ServiceStartupError
from streams.admin import ensure_topics
from streams.producer import EventProducer


def redact(url: str) -> str:
    """``url`` without its password, fit for logs and error messages."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@dataclass
class Services:
    """Open clients of one process. Fields are ``None`` until connected."""

    mongo: AsyncMongoClient | None = None
    redis: Redis | None = None
    producer: EventProducer | None = None
    kafka_admin: AIOKafkaAdminClient | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def require_redis(self) -> Redis:
        if self.redis is None:
            raise RuntimeError("Redis is not connected in this process")
        return self.redis

    def require_producer(self) -> EventProducer:
        if self.producer is None:
            raise RuntimeError("Kafka producer is not started in this process")
        return self.producer


services = Services()


async def connect_mongo(settings: Settings, documents: Sequence[type]) -> AsyncMongoClient:
    """Open the MongoDB client, check it answers, and initialise Beanie on the database with
    ``documents`` (every Beanie document: ``app.documents.document_models()``, passed in by
    the process's entry point so this module knows no domain)."""
    timeout_ms = int(settings.service_timeout_seconds * 1000)
    client: AsyncMongoClient = AsyncMongoClient(
        settings.mongodb_url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
    )
    try:
        await client.admin.command("ping")
    except Exception as exc:
        await client.close()
        raise ServiceStartupError("MongoDB", redact(settings.mongodb_url), _reason(exc)) from exc
    # Indexes a model no longer declares are dropped (a changed unique index would otherwise
    # keep refusing what the new one allows).
    await init_beanie(
        database=client[settings.mongodb_database],
        document_models=list(documents),
        allow_index_dropping=True,
    )
    return client


async def connect_redis(settings: Settings) -> Redis:
    """Open the Redis client and check it answers ``PING``."""
    client = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.service_timeout_seconds,
        socket_timeout=settings.service_timeout_seconds,
        health_check_interval=30,
    )
    try:
        await client.ping()
    except Exception as exc:
        await client.aclose()
        raise ServiceStartupError("Redis", redact(settings.redis_url), _reason(exc)) from exc
    return client


async def connect_kafka(settings: Settings) -> tuple[EventProducer, AIOKafkaAdminClient]:
    """Create the declared topics, start this process's producer and an admin client."""
    address = settings.kafka_bootstrap_servers
    timeout = settings.service_timeout_seconds
    producer = EventProducer(address, client_id=f"{settings.app_name}-web")
    admin = AIOKafkaAdminClient(bootstrap_servers=address, request_timeout_ms=int(timeout * 1000))
    try:
        replicas = settings.kafka_replication_factor
        await asyncio.wait_for(ensure_topics(address, replication_factor=replicas), timeout)
        await asyncio.wait_for(producer.start(), timeout)
        await asyncio.wait_for(admin.start(), timeout)
    except Exception as exc:
        await producer.stop()
        await admin.close()
        raise ServiceStartupError("Kafka", address, _reason(exc)) from exc
    return producer, admin


async def connect_services(settings: Settings, documents: Sequence[type]) -> Services:
    """Connect everything this web process needs, in parallel; first failure wins."""
    results = await asyncio.gather(
        connect_mongo(settings, documents),
        connect_redis(settings),
        connect_kafka(settings),
        return_exceptions=True,
    )
    mongo, redis, kafka = results
    if not isinstance(mongo, BaseException):
        services.mongo = mongo
    if not isinstance(redis, BaseException):
        services.redis = redis
    if not isinstance(kafka, BaseException):
        services.producer, services.kafka_admin = kafka
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        await close_services()
        raise failures[0]
    return services


async def close_services() -> None:
    """Close whatever is open; safe to call twice."""
    if services.producer is not None:
        await services.producer.stop()
    if services.kafka_admin is not None:
        await services.kafka_admin.close()
    if services.redis is not None:
        await services.redis.aclose()
    if services.mongo is not None:
        await services.mongo.close()
    services.mongo = services.redis = services.producer = services.kafka_admin = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer before the start-up timeout"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # PyMongo appends its timeout settings and topology dump: keep the cause only.
    for noise in (" (configured timeouts", ", Timeout:"):
        text = text.split(noise)[0]
    return text[:300]
