"""Uploads and signed downloads over HTTP against the running web server: good files of each
type, and the bad ones — a renamed executable, an oversized file, EICAR, path-traversal names,
and someone else's file."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from app.clubs.service import club_service
from app.config import get_settings
from app.files.storage import LocalStorage
from tests.conftest import LiveStack
from tests.files.http import login
from tests.files.samples import eicar_in_pdf, jpeg, pdf, png, windows_executable
from tests.identity.conftest import Api


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def test_good_files_are_stored_by_content_and_served_through_signed_links(
    api: Api,
) -> None:
    asha = await login(api, tag="asha")
    for data, name, content_type, ext in [
        (pdf("receipt"), "March receipt.pdf", "application/pdf", "pdf"),
        (png(), "scan.PNG", "image/png", "png"),
        (jpeg(), "photo.jpeg", "image/jpeg", "jpg"),
    ]:
        reply = await asha.upload(data, name, "receipt")
        assert reply.status == 201, reply.body
        body = reply.body
        assert body["content_type"] == content_type and body["filename"].endswith(f".{ext}")
        assert body["size"] == len(data)
        assert body["sha256"] == hashlib.sha256(data).hexdigest()
        stored = LocalStorage(get_settings().files_dir).path_of(body["sha256"])
        assert stored.read_bytes() == data  # by content hash, under the configured folder

        link = await asha.ok("GET", f"/api/v1/files/{body['id']}/link")
        assert link["url"].startswith(api.base)
        status, served, headers = await asha.download(link["url"])
        assert (status, served) == (200, data)
        assert headers["Content-Type"].startswith(content_type)
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"].startswith("attachment;")
        assert "no-store" in headers["Cache-Control"]

    # the same bytes again: a new record, one blob
    again = await asha.upload(pdf("receipt"), "copy.pdf", "receipt")
    assert (
        again.status == 201 and again.body["sha256"] == hashlib.sha256(pdf("receipt")).hexdigest()
    )

    inline = await asha.ok("GET", f"/api/v1/files/{again.body['id']}/link",
                           params={"disposition": "inline"})  # fmt: skip
    status, _, headers = await asha.download(inline["url"])
    assert status == 200 and headers["Content-Disposition"].startswith("inline;")


async def test_bad_files_are_refused_and_nothing_is_stored(api: Api) -> None:
    ravi = await login(api, tag="ravi")
    before = sorted(p.name for p in Path(get_settings().files_dir).rglob("*") if p.is_file())

    renamed = await ravi.upload(windows_executable(), "invoice.pdf", content_type="application/pdf")
    assert (renamed.status, renamed.code) == (415, "unsupported_file_type")
    gif = await ravi.upload(b"GIF89a" + b"\0" * 40, "photo.png", content_type="image/png")
    assert (gif.status, gif.code) == (415, "unsupported_file_type")

    virus = await ravi.upload(eicar_in_pdf(), "statement.pdf")
    assert (virus.status, virus.code) == (422, "malware_detected")
    assert virus.body["error"]["details"]["signature"] == "EICAR-Test-File"

    limit = get_settings().file_max_bytes
    just_over = pdf() + b"%" * (limit + 1 - len(pdf()))
    over = await ravi.upload(just_over, "big.pdf")
    assert (over.status, over.code) == (413, "file_too_large")
    assert over.body["error"]["details"]["max_bytes"] == limit
    # Far over: the server answers 413 as soon as it has read past the limit and may close
    # the connection while the client is still sending (RFC 9110 §15.5.14 lets it); either
    # way the upload is refused, and nothing is stored (checked below).
    try:
        way_over = await ravi.upload(pdf() + b"%" * (limit * 3), "huge.pdf")
    except aiohttp.ClientConnectionError:
        pass
    else:
        assert (way_over.status, way_over.code) == (413, "file_too_large")
    exactly = await ravi.upload(pdf() + b"%" * (limit - len(pdf())), "exact.pdf")
    assert exactly.status == 201, exactly.body

    empty = await ravi.upload(b"", "empty.pdf")
    assert (empty.status, empty.code) == (422, "file_missing")
    report = await ravi.upload(pdf(), "fake-report.pdf", purpose="report")
    assert (report.status, report.code) == (422, "wrong_file_purpose")
    unknown = await ravi.upload(pdf(), "x.pdf", purpose="selfie")
    assert (unknown.status, unknown.code) == (422, "validation_error")

    after = sorted(p.name for p in Path(get_settings().files_dir).rglob("*") if p.is_file())
    new_blobs = set(after) - set(before)
    assert new_blobs == {hashlib.sha256(pdf() + b"%" * (limit - len(pdf()))).hexdigest()}


async def test_path_traversal_names_are_only_names(api: Api) -> None:
    meera = await login(api, tag="meera")
    root = Path(get_settings().files_dir).resolve()
    for name, shown in [
        ("../../../../etc/passwd", "passwd.pdf"),
        ("..\\..\\boot.ini", "boot.pdf"),
        ("/tmp/../../root/.ssh/authorized_keys.pdf", "authorized_keys.pdf"),
    ]:
        data = pdf(name)
        reply = await meera.upload(data, name)
        raw = await meera.upload_raw(data + b"\n", name)  # the name unencoded, as curl sends it
        assert raw.status == 201 and raw.body["filename"] == shown, raw.body
        assert reply.status == 201, reply.body
        assert reply.body["filename"] == shown
        stored = LocalStorage(root).path_of(reply.body["sha256"]).resolve()
        assert stored.is_relative_to(root) and stored.name == reply.body["sha256"]
        link = await meera.ok("GET", f"/api/v1/files/{reply.body['id']}/link")
        status, _, headers = await meera.download(link["url"])
        assert status == 200 and f'filename="{shown}"' in headers["Content-Disposition"]
    encoded = await meera.upload_raw(pdf("encoded"), "%2e%2e%2fsecret.pdf")
    assert encoded.body["filename"] == "secret.pdf"


async def test_someone_elses_file_is_not_found_and_links_cannot_be_bent(api: Api) -> None:
    owner, other = await login(api, tag="owner"), await login(api, tag="other")
    mine = (await owner.upload(pdf("private"), "private.pdf", "kyc_document")).body
    for path in (f"/api/v1/files/{mine['id']}", f"/api/v1/files/{mine['id']}/link"):
        reply = await other.call("GET", path)
        assert (reply.status, reply.code) == (404, "file_not_found")
    assert (await other.call("GET", "/api/v1/files/not-an-id/link")).code == "file_not_found"
    assert (await api.call("GET", f"/api/v1/files/{mine['id']}/link")).status == 401

    link = (await owner.ok("GET", f"/api/v1/files/{mine['id']}/link"))["url"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    other_file = (await other.upload(pdf("theirs"), "theirs.pdf")).body
    base = f"{api.base}/api/v1/files"
    forged = [
        f"{base}/{other_file['id']}/content?exp={query['exp']}&d={query['d']}&v={query['v']}"
        f"&sig={query['sig']}",  # the signature of another file
        f"{base}/{mine['id']}/content?exp={int(query['exp']) + 3600}&d={query['d']}"
        f"&v={query['v']}&sig={query['sig']}",  # a longer life
        f"{base}/{mine['id']}/content?exp={query['exp']}&d=inline&v={query['v']}"
        f"&sig={query['sig']}",
        f"{base}/{mine['id']}/content",
    ]
    for url in forged:
        status, body, _ = await other.download(url)
        assert status == 403 and b"invalid_link" in body
    from app.files.signing import sign_link

    stale = sign_link(get_settings(), mine["id"], owner.id, ttl=-1, now=time.time())
    status, body, _ = await other.download(f"{api.base}{stale.path}")
    assert status == 410 and b"link_expired" in body


async def test_receipts_and_agreements_follow_their_club(api: Api) -> None:
    treasurer, payer, outsider = (await login(api, tag="t"), await login(api, tag="p"),
                                  await login(api, tag="o"))  # fmt: skip
    club, _ = await club_service.do_create_club(treasurer.id, name="Neem Circle")
    club_id = str(club.id)
    import datetime as dt

    _, token = await club_service.do_create_invite(
        club_id, treasurer.id, expires_in=dt.timedelta(hours=1), max_uses=1
    )
    await club_service.do_accept_invite(token, payer.id)

    receipt = (await payer.upload(pdf("paid 5000"), "receipt.pdf", "receipt")).body
    assert (await treasurer.call("GET", f"/api/v1/files/{receipt['id']}/link")).status == 404
    contribution = await payer.call(
        "POST", f"/api/v1/clubs/{club_id}/contributions",
        {"amount": "5000.00", "method": "manual", "receipt_file_id": receipt["id"]},
        headers={"Idempotency-Key": f"r-{receipt['id']}"},
    )  # fmt: skip
    assert contribution.status == 201, contribution.body
    # the treasurer reviewing the manual contribution may now see its receipt; others not
    assert (await treasurer.call("GET", f"/api/v1/files/{receipt['id']}/link")).status == 200
    assert (await outsider.call("GET", f"/api/v1/files/{receipt['id']}/link")).status == 404

    refused = await payer.upload(pdf("minutes"), "minutes.pdf", "agreement", club_id=club_id)
    assert (refused.status, refused.code) == (403, "role_required")
    agreement = await treasurer.upload(pdf("agreement"), "club agreement.pdf", "agreement",
                                       club_id=club_id)  # fmt: skip
    assert agreement.status == 201 and agreement.body["club_id"] == club_id
    assert (await payer.call("GET", f"/api/v1/files/{agreement.body['id']}/link")).status == 200
    assert (await outsider.call("GET", f"/api/v1/files/{agreement.body['id']}/link")).status == 404
    no_club = await outsider.upload(pdf("x"), "x.pdf", "agreement", club_id=club_id)
    assert (no_club.status, no_club.code) == (404, "club_not_found")
