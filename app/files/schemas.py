"""Request and response shapes of the files API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from app.files.documents import FilePurpose, StoredFile


class FileOut(BaseModel):
    """A stored file: its sanitised name, the type detected from its content, size, SHA-256."""

    id: str
    purpose: FilePurpose
    filename: str
    content_type: str
    size: int
    sha256: str
    club_id: str | None
    attached_kind: str | None
    attached_id: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, record: StoredFile) -> FileOut:
        return cls(
            id=str(record.id), purpose=record.purpose, filename=record.filename,
            content_type=record.content_type, size=record.size, sha256=record.sha256,
            club_id=record.club_id, attached_kind=record.attached_kind,
            attached_id=record.attached_id, created_at=record.created_at,
        )  # fmt: skip


class LinkQuery(BaseModel):
    """``?disposition=attachment`` (download, default) or ``inline`` (preview in the browser)."""

    disposition: Literal["attachment", "inline"] = "attachment"


class LinkOut(BaseModel):
    """A signed download link (absolute URL) and when it stops working."""

    url: str
    expires_at: dt.datetime
    file: FileOut


class ContentQuery(BaseModel):
    """The signed link's parameters."""

    exp: str = Field(default="")
    d: str = Field(default="attachment")
    v: str = Field(default="")
    sig: str = Field(default="")
