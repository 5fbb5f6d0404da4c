"""Accepting, storing and handing out files (issue "KYC, files and reports").

An upload is accepted only when it is within the size limit, passes the scanner, and is a PDF,
PNG or JPEG by its content; it is then stored once by SHA-256 and recorded with a sanitised
name. Bytes leave only through signed links (app/files/signing.py), issued after the viewer's
right to the owning object was checked (app/files/access.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession

from app.clubs.service import TREASURY, club_service
from app.config import get_settings
from app.files import repository
from app.files.access import may_view
from app.files.content import detect_type, sanitise_filename
from app.files.documents import FilePurpose, StoredFile
from app.files.errors import (
    EmptyFile,
    FileInUse,
    FileNotFound,
    FileTooLarge,
    MalwareDetected,
    UnsupportedFileType,
    WrongFilePurpose,
)
from app.files.scanning import Scanner, scanner_for
from app.files.signing import SignedLink, check_link, sign_link
from app.files.storage import FileStorage, storage_for
from app.identity.documents import User
from app.logging import get_logger

log = get_logger(__name__)

UPLOADABLE = (
    FilePurpose.RECEIPT,
    FilePurpose.AGREEMENT,
    FilePurpose.KYC_DOCUMENT,
    FilePurpose.CAMPAIGN,
)


@dataclass(frozen=True, slots=True)
class Download:
    """What a valid link serves."""

    file: StoredFile
    data: bytes
    disposition: str


class FilesService:
    """Uploads, generated files, links and downloads. Storage and scanner come from settings
    unless given (tests pass their own)."""

    def __init__(self, storage: FileStorage | None = None, scanner: Scanner | None = None):
        self._storage = storage
        self._scanner = scanner

    @property
    def storage(self) -> FileStorage:
        return self._storage or storage_for(get_settings())

    @property
    def scanner(self) -> Scanner:
        return self._scanner or scanner_for(get_settings())

    async def do_upload(
        self,
        owner_id: str,
        *,
        data: bytes,
        filename: str | None,
        purpose: FilePurpose,
        club_id: str | None = None,
    ) -> StoredFile:
        """Accept an upload of ``owner_id``.

        Order: size, then the scan (malware is refused whatever its type), then the type by
        magic bytes; the club of an agreement or receipt is checked for membership (agreements:
        owner/admin/treasurer only). Nothing is stored unless every check passes.

        Raises:
            EmptyFile, FileTooLarge, MalwareDetected, ScannerUnavailable, UnsupportedFileType,
            WrongFilePurpose (``report`` is not uploadable), ClubNotFound, RoleRequired.
        """
        settings = get_settings()
        if purpose not in UPLOADABLE:
            raise WrongFilePurpose(
                "this purpose cannot be uploaded",
                details={"expected": [p.value for p in UPLOADABLE]},
            )
        if not data:
            raise EmptyFile("send a non-empty file in the form field 'file'")
        if len(data) > settings.file_max_bytes:
            raise FileTooLarge(
                f"files may be at most {settings.file_max_bytes} bytes",
                details={"max_bytes": settings.file_max_bytes, "size": len(data)},
            )
        if purpose == FilePurpose.AGREEMENT and not club_id:
            raise WrongFilePurpose("an agreement belongs to a club: give club_id")
        if club_id:
            roles = TREASURY if purpose == FilePurpose.AGREEMENT else None
            await club_service.check_member(club_id, owner_id, roles)
        verdict = await self.scanner.scan(data)
        if not verdict.clean:
            log.warning("upload refused: malware", owner_id=owner_id, scanner=verdict.scanner,
                        signature=verdict.signature, size=len(data))  # fmt: skip
            raise MalwareDetected(
                "the file was refused by the virus scanner",
                details={"signature": verdict.signature, "scanner": verdict.scanner},
            )
        file_type = detect_type(data)
        if file_type is None:
            raise UnsupportedFileType(
                "only PDF, PNG and JPEG files are accepted (decided by the content, not the name)",
                details={"accepted": ["application/pdf", "image/png", "image/jpeg"]},
            )
        return await self._store(
            owner_id, data, sanitise_filename(filename, file_type), file_type.content_type,
            purpose, club_id=club_id, scanner=verdict.scanner,
        )  # fmt: skip

    async def do_store_generated(
        self,
        owner_id: str,
        *,
        data: bytes,
        filename: str,
        content_type: str,
        purpose: FilePurpose,
        attached_kind: str,
        attached_id: str,
        club_id: str | None = None,
    ) -> StoredFile:
        """Store a file the platform made (a report) for ``owner_id``, already attached to the
        object it belongs to. Not scanned: no outside bytes are in it."""
        return await self._store(
            owner_id, data, filename, content_type, purpose, club_id=club_id,
            attached_kind=attached_kind, attached_id=attached_id,
        )  # fmt: skip

    async def _store(
        self,
        owner_id: str,
        data: bytes,
        filename: str,
        content_type: str,
        purpose: FilePurpose,
        *,
        club_id: str | None = None,
        scanner: str | None = None,
        attached_kind: str | None = None,
        attached_id: str | None = None,
    ) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        storage = self.storage
        await storage.put(digest, data, content_type)  # the blob first: a record never dangles
        record = StoredFile(
            owner_id=owner_id, purpose=purpose, filename=filename, content_type=content_type,
            size=len(data), sha256=digest, storage=storage.name, scanner=scanner,
            club_id=club_id, attached_kind=attached_kind, attached_id=attached_id,
        )  # fmt: skip
        return await repository.insert(record)

    async def get(self, file_id: str) -> StoredFile | None:
        """The record, or None (also for an id that is not an ObjectId)."""
        return await repository.get(file_id)

    async def check_viewable(self, file_id: str, viewer: User) -> StoredFile:
        """The file, when ``viewer`` may see it. Raises ``FileNotFound`` otherwise (also for
        someone else's file: its existence is not revealed)."""
        record = await self.get(file_id)
        if record is None or not await may_view(record, viewer):
            raise FileNotFound("no such file")
        return record

    async def check_own(self, file_id: str, owner_id: str, purpose: FilePurpose) -> StoredFile:
        """An unattached file ``owner_id`` uploaded for ``purpose``.

        Raises:
            FileNotFound (not theirs), WrongFilePurpose, FileInUse (already attached).
        """
        record = await self.get(file_id)
        if record is None or record.owner_id != owner_id:
            raise FileNotFound("no such file")
        if record.purpose != purpose:
            raise WrongFilePurpose(
                f"this file was uploaded as {record.purpose.value}",
                details={"expected": purpose.value},
            )
        if record.attached_id is not None:
            raise FileInUse("this file already belongs to another document")
        return record

    async def do_attach(
        self, file_id: str, kind: str, target_id: str, session: AsyncClientSession | None = None
    ) -> None:
        """Mark the file as belonging to ``kind``/``target_id`` (once). Raises ``FileInUse``."""
        fields = {"attached_kind": kind, "attached_id": target_id}
        if not await repository.attach(file_id, fields, session):
            raise FileInUse("this file already belongs to another document")

    async def do_use_as_receipt(
        self, file_id: str, owner_id: str, club_id: str, contribution_id: str,
        session: AsyncClientSession | None = None,
    ) -> None:  # fmt: skip
        """The receipt ``owner_id`` uploaded becomes the proof of their contribution to
        ``club_id``: the club's owner/admin/treasurers may see it from now on.

        Raises:
            FileNotFound (not theirs), WrongFilePurpose (not a receipt), FileInUse.
        """
        await self.check_own(file_id, owner_id, FilePurpose.RECEIPT)
        fields = {"attached_kind": "contribution", "attached_id": contribution_id,
                  "club_id": club_id}  # fmt: skip
        if not await repository.attach(file_id, fields, session):
            raise FileInUse("this file already belongs to another document")

    def link(
        self, record: StoredFile, viewer_id: str, disposition: str = "attachment"
    ) -> SignedLink:
        """A signed link to ``record`` for a viewer whose access was checked."""
        return sign_link(get_settings(), str(record.id), viewer_id, disposition)

    async def open_link(
        self, file_id: str, *, exp: str, disposition: str, viewer: str, sig: str
    ) -> Download:
        """The bytes a signed link points at.

        Raises:
            InvalidLink (403), LinkExpired (410), FileNotFound (404: the record is gone).
        """
        check_link(get_settings(), file_id, exp, disposition, viewer, sig)
        record = await self.get(file_id)
        if record is None:
            raise FileNotFound("no such file")
        data = await self.storage.get(record.sha256)
        if hashlib.sha256(data).hexdigest() != record.sha256:  # a damaged blob is never served
            log.error("stored file does not match its hash", file_id=file_id)
            raise RuntimeError(f"stored blob of file {file_id} is damaged")
        log.info("file downloaded", file_id=file_id, viewer=viewer, purpose=record.purpose.value)
        return Download(record, data, disposition)


files_service = FilesService()
