"""The scan step: the built-in EICAR scanner, and the ClamAV adapter against a small local
stand-in for clamd that speaks its socket protocol (``zINSTREAM``, ``zPING``) — ClamAV itself
is an external system."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from app.files.errors import ScannerUnavailable
from app.files.scanning import EICAR, ClamdScanner, EicarScanner
from tests.conftest import free_port
from tests.files.samples import eicar_in_pdf, pdf


class FakeClamd:
    """clamd's command protocol over TCP: NUL-terminated ``z`` commands; ``INSTREAM`` reads
    4-byte big-endian length-prefixed chunks until a zero length, then answers
    ``stream: OK`` / ``stream: Eicar-Signature FOUND`` / the size-limit error."""

    def __init__(self, max_stream: int = 1 << 20, silent: bool = False) -> None:
        self.max_stream = max_stream
        self.silent = silent
        self.received: list[bytes] = []
        self.server: asyncio.base_events.Server | None = None
        self.port = free_port()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = (await reader.readuntil(b"\0")).rstrip(b"\0")
        if self.silent:
            await asyncio.sleep(5)
        if command == b"zPING":
            writer.write(b"PONG\0")
        elif command == b"zINSTREAM":
            data = bytearray()
            while True:
                (size,) = struct.unpack(">I", await reader.readexactly(4))
                if size == 0:
                    break
                data += await reader.readexactly(size)
                if len(data) > self.max_stream:
                    writer.write(b"INSTREAM size limit exceeded. ERROR\0")
                    break
            if len(data) <= self.max_stream:
                self.received.append(bytes(data))
                found = EICAR in data
                writer.write(b"stream: Eicar-Signature FOUND\0" if found else b"stream: OK\0")
        else:
            writer.write(b"UNKNOWN COMMAND\0")
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> FakeClamd:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def clamd() -> AsyncIterator[FakeClamd]:
    async with FakeClamd(max_stream=300_000) as server:
        yield server


async def test_the_default_scanner_catches_eicar() -> None:
    scanner = EicarScanner()
    assert (await scanner.scan(pdf())).clean
    verdict = await scanner.scan(EICAR)
    assert not verdict.clean and verdict.signature == "EICAR-Test-File"
    assert not (await scanner.scan(eicar_in_pdf())).clean


async def test_clamd_instream(clamd: FakeClamd) -> None:
    scanner = ClamdScanner(f"tcp://127.0.0.1:{clamd.port}", timeout=5)
    assert await scanner.ping()
    clean = pdf()
    assert (await scanner.scan(clean)).clean
    big = clean + b"%" * 200_000  # several 64 KiB chunks arrive whole and in order
    assert (await scanner.scan(big)).clean
    assert clamd.received[-1] == big
    verdict = await scanner.scan(eicar_in_pdf())
    assert (verdict.clean, verdict.signature, verdict.scanner) == (
        False, "Eicar-Signature", "clamd")  # fmt: skip
    with pytest.raises(ScannerUnavailable) as refused:  # clamd's StreamMaxLength
        await scanner.scan(b"%PDF-" + b"0" * 400_000)
    assert "size limit" in refused.value.details["reply"]


async def test_an_unreachable_or_silent_clamd_refuses_the_upload() -> None:
    with pytest.raises(ScannerUnavailable):
        await ClamdScanner(f"tcp://127.0.0.1:{free_port()}", timeout=2).scan(pdf())
    assert not await ClamdScanner(f"tcp://127.0.0.1:{free_port()}", timeout=2).ping()
    async with FakeClamd(silent=True) as silent:
        with pytest.raises(ScannerUnavailable):
            await ClamdScanner(f"tcp://127.0.0.1:{silent.port}", timeout=0.3).scan(pdf())


def test_clamd_addresses() -> None:
    assert ClamdScanner("unix:///run/clamav/clamd.ctl", 1).url.startswith("unix://")
    with pytest.raises(ValueError, match="clamd_url"):
        ClamdScanner("http://clamd:3310", 1)
