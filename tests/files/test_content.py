"""Type detection by content, name sanitising, and signed links (no services needed)."""

from __future__ import annotations

import pytest

from app.config import Settings
from app.files.content import JPEG, PDF, PNG, detect_type, sanitise_filename
from app.files.errors import InvalidLink, LinkExpired
from app.files.signing import check_link, sign_link
from tests.files.samples import jpeg, pdf, png, windows_executable


def test_types_come_from_the_content() -> None:
    assert detect_type(pdf()) is PDF
    assert detect_type(png()) is PNG
    assert detect_type(jpeg()) is JPEG
    assert detect_type(windows_executable()) is None
    assert detect_type(b"GIF89a...") is None
    assert detect_type(b"\x89PNG\r\n\x1a\n" + b"\0" * 20) is None  # no IHDR: not a PNG
    assert detect_type(b"junk %PDF-1.4") is None  # the magic must open the file


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
        ("/abs/path/receipt.PDF", "receipt.pdf"),
        ("invoice.exe", "invoice.pdf"),
        ("report.pdf.exe", "report_pdf.pdf"),
        (".hidden", "hidden.pdf"),
        ("", "file.pdf"),
        (None, "file.pdf"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        ("रसीद मार्च.pdf", "रसीद मार्च.pdf"),
        ("x" * 300 + ".pdf", "x" * 80 + ".pdf"),
        ("<b>alert(1)</b>.pdf", "b.pdf"),  # the last path component only
        ("<b>alert(1)<b>.pdf", "b_alert_1_b.pdf"),
    ],
)
def test_names_are_sanitised(name: str | None, expected: str) -> None:
    assert sanitise_filename(name, PDF) == expected


def test_names_get_the_extension_of_the_detected_type() -> None:
    assert sanitise_filename("photo.pdf", PNG) == "photo.png"
    assert sanitise_filename("scan.png", JPEG) == "scan.jpg"


def test_signed_links(settings: Settings) -> None:
    link = sign_link(settings, "f1", "viewer", "inline", ttl=60, now=1_000_000)
    assert link.expires_at == 1_000_060
    query = dict(part.split("=", 1) for part in link.path.split("?", 1)[1].split("&"))
    check_link(settings, "f1", query["exp"], "inline", "viewer", query["sig"], now=1_000_059)
    with pytest.raises(LinkExpired):
        check_link(settings, "f1", query["exp"], "inline", "viewer", query["sig"], now=1_000_061)
    for file_id, exp, disposition, viewer in [
        ("f2", query["exp"], "inline", "viewer"),  # another file
        ("f1", str(int(query["exp"]) + 3600), "inline", "viewer"),  # a longer life
        ("f1", query["exp"], "attachment", "viewer"),  # another disposition
        ("f1", query["exp"], "inline", "someone-else"),  # another viewer
    ]:
        with pytest.raises(InvalidLink):
            check_link(settings, file_id, exp, disposition, viewer, query["sig"], now=1_000_000)
    with pytest.raises(InvalidLink):  # an expired forgery is invalid, not expired
        check_link(settings, "f1", "5", "inline", "viewer", "forged", now=1_000_000)
