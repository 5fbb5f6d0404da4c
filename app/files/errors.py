"""Failures of the files domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError


class FileNotFound(AppError):
    """No such file, or the caller may not see it (404: existence is not revealed)."""

    status = 404
    code = "file_not_found"


class FileTooLarge(AppError):
    """The upload is larger than ``file_max_bytes`` (413); ``details.max_bytes``."""

    status = 413
    code = "file_too_large"


class EmptyFile(AppError):
    """No file part, or an empty one (422)."""

    status = 422
    code = "file_missing"


class UnsupportedFileType(AppError):
    """The content is not a PDF, PNG or JPEG, whatever its name says (415)."""

    status = 415
    code = "unsupported_file_type"


class MalwareDetected(AppError):
    """The scanner found malware; nothing is stored (422); ``details.signature``."""

    status = 422
    code = "malware_detected"


class ScannerUnavailable(AppError):
    """The scanner did not answer; the upload is refused rather than let through (503)."""

    status = 503
    code = "scanner_unavailable"


class InvalidLink(AppError):
    """A download link whose signature does not match (403)."""

    status = 403
    code = "invalid_link"


class LinkExpired(AppError):
    """A download link past its expiry (410): ask for a new one."""

    status = 410
    code = "link_expired"


class FileInUse(AppError):
    """The file already belongs to another object (409)."""

    status = 409
    code = "file_in_use"


class WrongFilePurpose(AppError):
    """The file was uploaded for another purpose (422); ``details.expected``."""

    status = 422
    code = "wrong_file_purpose"
