"""``python -m app.demo``: load the demo data that ``make run`` shows (idempotent).

Today: the instrument catalogue of the live market feed. Later domains add their demo clubs and
logins here, and ``DEMO_LOGINS`` lists them for the start-up banner and the README.
"""

from __future__ import annotations

import asyncio

from app.config import get_settings
from app.extensions import connect_mongo
from app.logging import configure_logging, get_logger

# (email, password, what the account is for) — printed by `make run`.
DEMO_LOGINS: list[tuple[str, str, str]] = []


async def load_demo_data() -> dict[str, int]:
    """Load every demo data set; return counts of what was inserted or changed."""
    from app.market.service import market_service

    settings = get_settings()
    client = await connect_mongo(settings)
    try:
        return {"instruments": await market_service.do_load_instruments()}
    finally:
        await client.close()


def main() -> None:
    """Entry point of ``python -m app.demo``."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    counts = asyncio.run(load_demo_data())
    get_logger("demo").info("demo data loaded", **counts)


if __name__ == "__main__":
    main()
