"""``python -m app.audit verify``: verify every audit chain; exit 1 naming the first broken link."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.config import get_settings
from app.documents import document_models
from app.extensions import connect_mongo


async def _verify() -> int:
    from app.audit.service import audit_service

    client = await connect_mongo(get_settings(), document_models())
    try:
        reports = await audit_service.verify_all()
    finally:
        await client.close()
    broken = [r for r in reports if not r.ok]
    for report in reports:
        state = "ok" if report.ok else f"BROKEN at seq {report.broken_seq}: {report.reason}"
        print(f"{report.chain}: {report.checked} records, {state}")
    return 1 if broken else 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command and run it."""
    parser = argparse.ArgumentParser(prog="python -m app.audit")
    parser.add_argument("command", choices=["verify"])
    parser.parse_args(argv)
    return asyncio.run(_verify())


if __name__ == "__main__":
    sys.exit(main())
