"""``python -m devtools.sms_sandbox``: run the sandbox SMS provider until SIGINT/SIGTERM.

Listens on the host and port of ``SAMOOH_SMS_SANDBOX_URL`` (or ``--host/--port``), accepts
the auth key ``SAMOOH_SMS_SANDBOX_AUTH_KEY`` and knows Samooh's DLT templates
(app/sms/templates.py) under their default ids.
"""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from aiohttp import web

from app.config import get_settings
from app.logging import configure_logging, get_logger
from app.sms.templates import TEMPLATES
from devtools.sms_sandbox.server import create_sms_app


def main(argv: list[str] | None = None) -> int:
    """Parse ``--host/--port`` (defaults from settings) and serve."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    url = urlsplit(settings.sms_sandbox_url)
    parser = argparse.ArgumentParser(description="Serve the sandbox SMS provider (MSG91 shape).")
    parser.add_argument("--host", default=url.hostname or "127.0.0.1")
    parser.add_argument("--port", type=int, default=url.port or 8011)
    args = parser.parse_args(argv)
    templates = {
        settings.sms_template_ids.get(t.key, t.template_id): {
            "dlt_template_id": t.dlt_template_id, "text": t.text}
        for t in TEMPLATES.values()
    }  # fmt: skip
    get_logger("sms-sandbox").info("sandbox SMS provider starting",
                                   url=f"http://{args.host}:{args.port}")  # fmt: skip
    app = create_sms_app(settings.sms_sandbox_auth_key, templates)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None,
                shutdown_timeout=2)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
