"""Failures of the KYC domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError


class InvalidDocument(AppError):
    """A number, date or field of the document is wrong (422); ``details.field``. Messages
    never repeat the number."""

    status = 422
    code = "invalid_document"


class DocumentExpired(AppError):
    """The document's expiry date has passed (422)."""

    status = 422
    code = "kyc_document_expired"


class DocumentPending(AppError):
    """A document of this kind already awaits review (409): wait for the decision."""

    status = 409
    code = "kyc_document_pending"


class NumberInUse(AppError):
    """This document number is pending or verified on another account (409)."""

    status = 409
    code = "kyc_number_in_use"


class KycDocumentNotFound(AppError):
    """No such document, or not the caller's (404)."""

    status = 404
    code = "kyc_document_not_found"


class DocumentState(AppError):
    """The document was decided already (409); ``details.status``."""

    status = 409
    code = "kyc_document_state"


class CannotDecideOwn(AppError):
    """An admin cannot verify or reject their own documents (409)."""

    status = 409
    code = "cannot_decide_own"


class KycRequired(AppError):
    """The action needs a KYC-verified account (403); ``details``: ``kyc_status``, ``limit``
    and what the request would bring the total to."""

    status = 403
    code = "kyc_required"
