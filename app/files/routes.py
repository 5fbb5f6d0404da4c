"""Files HTTP API (``/api/v1/files…``): upload, metadata, signed links, and the download the
link points at (the only way bytes leave)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel
from quart import Blueprint, Response, request
from quart_schema import (
    DataSource,
    document_request,
    tag,
    validate_querystring,
    validate_response,
)
from quart_schema.pydantic import File
from werkzeug.exceptions import RequestEntityTooLarge

from app.config import get_settings
from app.errors import ValidationFailed
from app.files.documents import FilePurpose
from app.files.errors import FileTooLarge
from app.files.schemas import ContentQuery, FileOut, LinkOut, LinkQuery
from app.files.service import files_service
from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors, document_raw_response

blueprint = Blueprint("files", __name__, url_prefix="/api/v1/files")

UPLOAD_PATH = "/api/v1/files"


class UploadForm(BaseModel):
    """``POST /api/v1/files`` (multipart/form-data). ``purpose``: ``receipt``, ``agreement``
    (needs ``club_id``) or ``kyc_document``."""

    file: File
    purpose: FilePurpose
    club_id: str | None = None


def link_out(record: Any, viewer_id: str, disposition: str = "attachment") -> LinkOut:
    """A signed link to ``record`` as the API shows it (absolute URL, expiry)."""
    link = files_service.link(record, viewer_id, disposition)
    return LinkOut(
        url=f"{get_settings().public_url}{link.path}",
        expires_at=dt.datetime.fromtimestamp(link.expires_at, dt.UTC),
        file=FileOut.of(record),
    )


@blueprint.post("")
@tag(["files"])
@require_auth
@document_request(UploadForm, source=DataSource.FORM_MULTIPART)
@validate_response(FileOut, 201)
@document_errors(404, 413, 415, 422, 503)
async def upload() -> tuple[FileOut, int]:
    """Upload a receipt, an agreement or a KYC document (multipart field ``file``).

    Accepted: PDF, PNG, JPEG — decided by the content, whatever the name or declared type — up
    to ``file_max_bytes``, after the virus scan. The name is sanitised and gets the extension of
    the detected type. Errors: 413 ``file_too_large``; 415 ``unsupported_file_type``; 422
    ``malware_detected``, ``file_missing``, ``wrong_file_purpose``, ``validation_error``; 404
    ``club_not_found``; 503 ``scanner_unavailable``."""
    try:
        form = await request.form
        files = await request.files
    except RequestEntityTooLarge as exc:
        max_bytes = get_settings().file_max_bytes
        raise FileTooLarge(
            f"files may be at most {max_bytes} bytes", details={"max_bytes": max_bytes}
        ) from exc
    try:
        purpose = FilePurpose(form.get("purpose", ""))
    except ValueError as exc:
        raise ValidationFailed(
            "purpose must be receipt, agreement, kyc_document or campaign",
            details={"errors": [{"loc": ["purpose"], "msg": "unknown purpose"}]},
        ) from exc
    upload = files.get("file")
    data = upload.read() if upload is not None else b""
    record = await files_service.do_upload(
        current_principal().user_id, data=data,
        filename=upload.filename if upload is not None else None, purpose=purpose,
        club_id=form.get("club_id") or None,
    )  # fmt: skip
    return FileOut.of(record), 201


@blueprint.get("/<file_id>")
@tag(["files"])
@require_auth
@validate_response(FileOut)
@document_errors(404)
async def get_file(file_id: str) -> FileOut:
    """A file's record, for people allowed to see it. Errors: 404 ``file_not_found``."""
    record = await files_service.check_viewable(file_id, current_principal().user)
    return FileOut.of(record)


@blueprint.get("/<file_id>/link")
@tag(["files"])
@require_auth
@validate_querystring(LinkQuery)
@validate_response(LinkOut)
@document_errors(404)
async def get_link(file_id: str, query_args: LinkQuery) -> LinkOut:
    """A signed download link that works for ``file_link_ttl_seconds`` (default 5 minutes),
    issued only to people allowed to see the file's owning object. Errors: 404
    ``file_not_found`` (also for someone else's file)."""
    principal = current_principal()
    record = await files_service.check_viewable(file_id, principal.user)
    return link_out(record, principal.user_id, query_args.disposition)


@blueprint.get("/<file_id>/content")
@tag(["files"])
@validate_querystring(ContentQuery)
@document_errors(403, 404, 410)
@document_raw_response(200, "*/*", description="the file's bytes, in its own content type")
async def content(file_id: str, query_args: ContentQuery) -> Response:
    """The bytes, through a signed link only (no bearer token: a browser opens it directly).
    Errors: 403 ``invalid_link``, 410 ``link_expired``, 404 ``file_not_found``."""
    download = await files_service.open_link(
        file_id, exp=query_args.exp, disposition=query_args.d, viewer=query_args.v,
        sig=query_args.sig,
    )  # fmt: skip
    record = download.file
    ascii_name = record.filename.encode("ascii", "replace").decode().replace("?", "_")
    ascii_name = ascii_name.replace('"', "_")
    response = Response(download.data, status=200, content_type=record.content_type)
    response.headers["Content-Disposition"] = (
        f'{download.disposition}; filename="{ascii_name}"; '
        f"filename*=UTF-8''{quote(record.filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if record.content_type.startswith("image/"):
        # An image shown inline runs no script and reaches nothing (defence in depth). Not for
        # PDFs: browsers refuse to run their PDF viewer in a sandboxed document.
        response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["ETag"] = f'"{record.sha256}"'
    return response
