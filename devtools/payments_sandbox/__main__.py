"""``python -m devtools.payments_sandbox``: run the sandbox payment provider until SIGINT/SIGTERM.

Listens on the host and port of ``SAMOOH_PAYMENT_SANDBOX_URL`` (or ``--host/--port``) and sends
webhooks to ``SAMOOH_PAYMENT_SANDBOX_WEBHOOK_URL`` (default
``<SAMOOH_PUBLIC_URL>/api/v1/webhooks/sandbox``), signed with the sandbox webhook secret.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from aiohttp import web

from app.config import get_settings
from app.logging import configure_logging, get_logger
from devtools.payments_sandbox.server import SandboxConfig, create_sandbox_app
from devtools.payments_sandbox.transfers import add_transfer_routes


def main(argv: list[str] | None = None) -> int:
    """Parse ``--host/--port/--webhook-url`` (defaults from settings) and serve."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    url = urlsplit(settings.payment_sandbox_url)
    default_webhook = (
        settings.payment_sandbox_webhook_url
        or f"{settings.public_url.rstrip('/')}/api/v1/webhooks/sandbox"
    )
    parser = argparse.ArgumentParser(description="Serve the sandbox payment provider.")
    parser.add_argument("--host", default=url.hostname or "127.0.0.1")
    parser.add_argument("--port", type=int, default=url.port or 8010)
    parser.add_argument("--webhook-url", default=default_webhook)
    args = parser.parse_args(argv)
    config = SandboxConfig(
        key_id=settings.payment_sandbox_key_id,
        key_secret=settings.payment_sandbox_key_secret.get_secret_value(),
        webhook_secret=settings.payment_sandbox_webhook_secret.get_secret_value(),
        webhook_url=args.webhook_url,
        return_url=settings.public_url,
    )
    get_logger("sandbox").info(
        "sandbox payment provider starting",
        url=f"http://{args.host}:{args.port}",
        webhook_url=args.webhook_url,
    )
    app = create_sandbox_app(config)
    add_transfer_routes(app)  # refunds and RazorpayX-shaped payouts
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        print=None,
        access_log=None,
        shutdown_timeout=2,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
