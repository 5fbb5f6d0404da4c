"""Small real files of each accepted type, and some that must be refused."""

from __future__ import annotations

import io
import struct
import zlib

from app.files.scanning import EICAR


def png(width: int = 2, height: int = 2, seed: int = 0) -> bytes:
    """A valid RGB PNG (signature, IHDR, IDAT, IEND with CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\0" + bytes((seed + x * 40) % 256 for x in range(width * 3))
                    for _ in range(height))  # fmt: skip
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """The start of a JFIF file (SOI, APP0) and EOI: enough for the magic-number check."""
    app0 = b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def pdf(text: str = "Receipt 42") -> bytes:
    """A one-page PDF made with reportlab."""
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)  # the same bytes every time
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def windows_executable() -> bytes:
    """The start of a PE executable (``MZ`` DOS header)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 200


def eicar_in_pdf() -> bytes:
    """A PDF that carries the EICAR test string: the scanner refuses it whatever its type."""
    return b"%PDF-1.4\n% " + EICAR + b"\n%%EOF\n"
