"""``python -m devtools.mailserver --host H --port P --dir D``: the local SMTP server of the dev and
test profiles (aiosmtpd). It accepts every message and stores each as one JSON file in ``D``
(``<received ns>-<id>.json``: id, received_at, from, to, subject, body, code), which
``GET /api/v1/dev/outbox`` and ``/dev/mail`` read. It never relays anything anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import email
import json
import os
import signal
import time
import uuid
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from app.mail.outbox import extract_code


class MailboxHandler:
    """aiosmtpd handler: writes each accepted message into the mailbox folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message; answer 250."""
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        parsed = email.message_from_bytes(raw, policy=default_policy)
        body = ""
        if isinstance(parsed, EmailMessage):
            part = parsed.get_body(preferencelist=("plain", "html"))
            if part is not None and isinstance(part, EmailMessage):
                body = str(part.get_content())
        record: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "received_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "from": envelope.mail_from,
            "to": [addr.lower() for addr in envelope.rcpt_tos],
            "subject": str(parsed.get("Subject", "")),
            "body": body,
            "code": extract_code(body),
        }
        name = f"{time.time_ns():020d}-{record['id']}.json"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False))
        os.replace(tmp, self.folder / name)
        print(
            f"mail to {', '.join(record['to'])}: {record['subject']}"
            + (f" (code {record['code']})" if record["code"] else ""),
            flush=True,
        )
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, folder: Path) -> None:
    """Listen until SIGINT/SIGTERM."""
    handler = MailboxHandler(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="samooh-dev-mail", data_size_limit=1024 * 1024),
        host=host,
        port=port,
    )
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"dev mail server on {host}:{port}, storing into {folder}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve."""
    parser = argparse.ArgumentParser(description="Samooh's local SMTP server (dev and test).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", required=True, help="mailbox folder")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, Path(args.dir)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
