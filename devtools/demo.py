"""``python -m devtools.demo``: load the demo data that ``make run`` shows (idempotent).

Today: the instrument catalogue of the live market feed. Later domains add their demo clubs and
logins here, and ``DEMO_LOGINS`` lists them for the start-up banner and the README.
"""

from __future__ import annotations

import asyncio

from app.config import get_settings, settings_or_exit
from app.documents import document_models
from app.errors import ServiceStartupError
from app.extensions import connect_mongo, services
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from app.logging import configure_logging, get_logger
from app.market.service import market_service
from devtools.demo_advisory import ADVISOR_DEMO_LOGINS, load_demo_advisor, load_demo_advisory
from devtools.demo_brokers import load_demo_brokers
from devtools.demo_campaigns import load_demo_campaigns
from devtools.demo_chits import load_demo_chits
from devtools.demo_crm import CRM_DEMO_LOGINS, load_demo_crm
from devtools.demo_fx import load_demo_fx_club
from devtools.demo_room import load_demo_room

# (email, password, what the account is for) — printed by `make run`.
DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("member@demo.samooh.in", "samooh-demo-member", "a member (platform role user)"),
    ("admin@demo.samooh.in", "samooh-demo-admin", "a platform admin (enrol TOTP to change roles)"),
    *CRM_DEMO_LOGINS,
    ("foreman@demo.samooh.in", "samooh-demo-foreman", "a chit foreman (the Demo Chit Fund)"),
    ("owner@demo.samooh.in", "samooh-demo-owner", "a business owner raising money (KYC done)"),
    *ADVISOR_DEMO_LOGINS,
]


async def load_demo_accounts() -> int:
    """Create the ``DEMO_LOGINS`` accounts, ACTIVE with member ids (idempotent); return how
    many exist."""
    for email, password, _ in DEMO_LOGINS:
        if email.startswith("crm-") or email.startswith("advisor@"):
            continue  # devtools/demo_crm.py and demo_advisory.py make these with their roles
        roles = [PlatformRole.ADMIN] if email.startswith("admin@") else []
        name = "Demo Admin" if roles else "Demo Member"
        if email.startswith("foreman@"):
            roles, name = [PlatformRole.FOREMAN], "Demo Foreman"
        await do_provision_user(email=email, password=password, full_name=name, roles=roles)
    return len(DEMO_LOGINS)


async def load_demo_data() -> dict[str, int]:
    """Load every demo data set; return counts of what was inserted or changed."""
    settings = get_settings()
    client = await connect_mongo(settings, document_models())
    services.mongo = client  # transactions (app/db.py) use the process's client
    try:
        return {
            "instruments": await market_service.do_load_instruments(),
            "candle_years": await market_service.do_load_candles(),
            "demo_accounts": await load_demo_accounts(),
            "demo_room": await load_demo_room(DEMO_LOGINS[0][0], DEMO_LOGINS[1][0]),
            "demo_fx_club": await load_demo_fx_club(DEMO_LOGINS[0][0], DEMO_LOGINS[1][0]),
            "demo_brokers": await load_demo_brokers(DEMO_LOGINS[0][0]),
            "demo_crm": await load_demo_crm(),
            "demo_advisory": await load_demo_advisory(DEMO_LOGINS[0][0]),
            "demo_advisor": await load_demo_advisor(DEMO_LOGINS[0][0]),
            "demo_chits": await load_demo_chits(
                "foreman@demo.samooh.in", DEMO_LOGINS[0][0], DEMO_LOGINS[1][0]
            ),
            "demo_campaigns": await load_demo_campaigns(DEMO_LOGINS[0][0], DEMO_LOGINS[1][0]),
        }
    finally:
        services.mongo = None
        await client.close()


def main() -> None:
    """Entry point of ``python -m devtools.demo``."""
    settings = settings_or_exit("demo")
    configure_logging(settings.log_level, settings.log_json)
    try:
        counts = asyncio.run(load_demo_data())
    except ServiceStartupError as exc:
        raise SystemExit(f"samooh demo: {exc}") from None
    get_logger("demo").info("demo data loaded", **counts)


if __name__ == "__main__":
    main()
