"""SMTP: the project's own mail server (aiosmtpd, run from the project's venv); it stores each
message it receives as JSON in ``<datadir>/smtp/mailbox`` and relays nothing."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import sys

from localservices.common import HOST, ServiceError
from localservices.profile import Launched, Profile, spawn


def install_smtp() -> None:
    """The local mail server is the project's own module (aiosmtpd, in the project's venv)."""
    if importlib.util.find_spec("aiosmtpd") is None:
        raise ServiceError(
            f"{sys.executable} lacks aiosmtpd: run `make venv` (or use .venv/bin/python)"
        )


def url(ports: dict[str, int]) -> str:
    """The URL of the locally started mail server."""
    return f"smtp://{HOST}:{ports['smtp']}"


def start_smtp(profile: Profile, ports: dict[str, int]) -> Launched:
    """Start the project's local mail server (devtools/mailserver.py, aiosmtpd); it stores each
    message it receives as a JSON file in <datadir>/smtp/mailbox and relays nothing."""
    mailbox = profile.svc_dir("smtp") / "mailbox"
    mailbox.mkdir(parents=True, exist_ok=True)
    port = ports["smtp"]
    cmd = [
        sys.executable,
        "-m",
        "devtools.mailserver",
        "--host",
        HOST,
        "--port",
        str(port),
        "--dir",
        str(mailbox),
    ]
    return spawn(profile, "smtp", cmd, port, url(ports))


async def probe_smtp(url: str, timeout: float) -> None:
    """The server must greet with 220 and answer NOOP with 250."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 25)
    try:
        greeting = await asyncio.wait_for(reader.readline(), timeout)
        if not greeting.startswith(b"220"):
            raise RuntimeError(f"unexpected greeting {greeting[:60]!r}")
        writer.write(b"NOOP\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.readline(), timeout)
        if not answer.startswith(b"250"):
            raise RuntimeError(f"NOOP answered {answer[:60]!r}")
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
