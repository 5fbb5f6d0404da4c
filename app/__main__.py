"""``python -m app``: serve the platform with Hypercorn on uvloop.

Same server as ``hypercorn --worker-class uvloop app.asgi:application``, but a start-up failure
(a service that does not answer) ends the process with status 2 and one line naming the service,
where the plain CLI logs a traceback and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import uvloop
from hypercorn.asyncio import serve
from hypercorn.config import Config
from hypercorn.utils import LifespanFailureError

from app.config import settings_or_exit
from app.web import create_asgi_app


def main(argv: list[str] | None = None) -> int:
    """Parse ``--host/--port`` (defaults from settings), serve until SIGINT/SIGTERM."""
    settings = settings_or_exit("web")
    parser = argparse.ArgumentParser(description="Serve the Samooh web application.")
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port)
    args = parser.parse_args(argv)

    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.graceful_timeout = 5
    config.accesslog = None
    application = create_asgi_app(settings)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(application, config, shutdown_trigger=stop.wait)

    try:
        uvloop.run(run())
    except LifespanFailureError as exc:
        print(
            f"samooh web: start-up failed: {exc.args[1] if len(exc.args) > 1 else exc}",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
