"""``python -m devtools.brokers_sandbox``: run the broker sandbox until SIGINT/SIGTERM.

Listens on the host and port of ``SAMOOH_BROKER_SANDBOX_URL`` (or ``--host/--port``), reads the
market ticks of ``SAMOOH_TOPIC_PREFIX`` from Kafka, and registers the development Kite app and
Alpaca keys (README: "Brokers") whose postbacks go to ``--postback-url`` (default
``<SAMOOH_PUBLIC_URL>/api/v1/brokers/kite/postback``) and logins return to
``<SAMOOH_PUBLIC_URL>/api/v1/brokers/kite/callback``.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from aiohttp import web

from app.config import get_settings
from app.logging import configure_logging, get_logger
from app.orders.broker import BrokerCosts
from devtools.brokers_sandbox.server import AlpacaAccount, KiteApp, Sandbox, create_sandbox_app
from streams.topics import MARKET_TICKS

DEV_KITE_KEY = "kitesandboxkey"
DEV_KITE_SECRET = "kite-sandbox-secret"  # noqa: S105  (a published development credential)
DEV_ALPACA_KEY = "PKSANDBOXKEY"
DEV_ALPACA_SECRET = "alpaca-sandbox-secret"  # noqa: S105


def main(argv: list[str] | None = None) -> int:
    """Parse ``--host/--port/--public-url`` (defaults from settings) and serve."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    url = urlsplit(settings.broker_sandbox_url)
    parser = argparse.ArgumentParser(description="Serve the broker sandbox (Kite, Alpaca).")
    parser.add_argument("--host", default=url.hostname or "127.0.0.1")
    parser.add_argument("--port", type=int, default=url.port or 8020)
    parser.add_argument("--public-url", default=settings.public_url.rstrip("/"))
    args = parser.parse_args(argv)
    sandbox = Sandbox(BrokerCosts.of(settings), MARKET_TICKS.name, settings.kafka_bootstrap_servers)
    sandbox.kite_apps[DEV_KITE_KEY] = KiteApp(
        DEV_KITE_KEY,
        DEV_KITE_SECRET,
        f"{args.public_url}/api/v1/brokers/kite/callback",
        f"{args.public_url}/api/v1/brokers/kite/postback",
    )
    sandbox.alpaca_accounts[DEV_ALPACA_KEY] = AlpacaAccount(DEV_ALPACA_KEY, DEV_ALPACA_SECRET)
    get_logger("brokers-sandbox").info(
        "broker sandbox starting", url=f"http://{args.host}:{args.port}"
    )
    web.run_app(
        create_sandbox_app(sandbox),
        host=args.host,
        port=args.port,
        print=None,
        access_log=None,
        shutdown_timeout=2,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
