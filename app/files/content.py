"""What a file is, decided from its bytes: the three accepted types by their magic numbers, and
the name it is shown under (sanitised, with the extension of the detected type)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True, slots=True)
class FileType:
    """An accepted type: MIME type and the extension a download gets."""

    content_type: str
    extension: str


PDF = FileType("application/pdf", "pdf")
PNG = FileType("image/png", "png")
JPEG = FileType("image/jpeg", "jpg")


def detect_type(data: bytes) -> FileType | None:
    """The type of ``data`` from its first bytes, or None when it is none of PDF, PNG, JPEG.

    PDF: ``%PDF-`` at the start (ISO 32000-1 §7.5.2; readers tolerate junk before it, we do not,
    so a polyglot with another format in front is refused). PNG: the 8-byte signature followed
    by the ``IHDR`` chunk (PNG spec §5.2–5.3). JPEG: SOI ``FF D8`` then a marker ``FF``
    (ITU T.81 Annex B).
    """
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


_RUNS = re.compile(r"[ _]{2,}")


def sanitise_filename(name: str | None, file_type: FileType, max_length: int = 80) -> str:
    """A safe display name: the last path component only (``/`` and ``\\`` both count), NFKC
    normalised, control and punctuation characters replaced by ``_`` (letters and digits of any
    script kept), no leading dots, at most ``max_length`` characters, and the extension of the
    detected type (``../../etc/passwd.pdf`` and ``..%2Fpasswd.pdf`` → ``passwd.pdf``;
    ``photo.exe`` holding a PNG → ``photo.png``). The name is only shown; storage keys are
    content hashes."""
    # Some clients percent-encode the name in the multipart header (``..%2Fetc``): decode once.
    base = unquote(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if ch.isprintable())
    stem = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    # Letters, digits and combining marks of any script (Devanagari vowel signs are marks).
    stem = "".join(
        ch if ch.isalnum() or ch in " -_" or unicodedata.category(ch).startswith("M") else "_"
        for ch in stem
    )
    stem = _RUNS.sub("_", stem).strip(" ._-")[:max_length].strip(" ._-")
    return f"{stem or 'file'}.{file_type.extension}"
