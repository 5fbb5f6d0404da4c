"""``python -m agents``: a Faust worker running every agent of the platform.

Creates the declared topics first (a worker ignores source topics that appear after it
subscribed), then hands over to Faust.
"""

from __future__ import annotations

import asyncio
import sys

from app.config import settings_or_exit
from app.errors import ServiceStartupError
from app.logging import configure_logging, get_logger
from app.telemetry import setup_error_reporting, setup_tracing


def main() -> None:
    """Check Kafka and Redis answer, create topics, then run the worker until interrupted."""
    settings = settings_or_exit("worker")
    configure_logging(settings.log_level, settings.log_json)
    setup_tracing(settings, "worker")  # both off unless configured (app/telemetry.py)
    setup_error_reporting(settings, "worker")
    log = get_logger("agents")

    async def preflight() -> None:
        from app.documents import document_models
        from app.extensions import connect_mongo, connect_redis
        from streams.admin import ensure_topics

        try:
            created = await asyncio.wait_for(
                ensure_topics(
                    settings.kafka_bootstrap_servers,
                    replication_factor=settings.kafka_replication_factor,
                ),
                settings.service_timeout_seconds,
            )
        except Exception as exc:
            raise ServiceStartupError(
                "Kafka", settings.kafka_bootstrap_servers, str(exc) or type(exc).__name__
            ) from exc
        redis = await connect_redis(settings)
        await redis.aclose()
        mongo = await connect_mongo(settings, document_models())
        await mongo.close()
        if created:
            log.info("topics created", topics=created)

    try:
        asyncio.run(preflight())
    except ServiceStartupError as exc:
        print(f"samooh worker: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc

    from pathlib import Path

    Path(settings.worker_data_dir).mkdir(parents=True, exist_ok=True)
    import agents.advisory
    import agents.alerts
    import agents.brokers
    import agents.campaigns
    import agents.chits
    import agents.crm
    import agents.dues
    import agents.kyc
    import agents.lifecycle  # registers signal receivers
    import agents.market
    import agents.metrics
    import agents.orders
    import agents.payments
    import agents.proposals
    import agents.reports
    import agents.sms  # noqa: F401
    from streams.app import app

    # Faust spells the levels its own way (``warn``, ``crit``).
    level = {"warning": "warn"}.get(settings.log_level.lower(), settings.log_level.lower())
    sys.argv = [sys.argv[0], "worker", "--loglevel", level, "--without-web"]
    app.main()


if __name__ == "__main__":
    main()
