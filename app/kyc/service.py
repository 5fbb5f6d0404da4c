"""KYC rules (docs/domain.md, KYC; issue "KYC, files and reports").

* A person submits documents (PAN, Aadhaar, driving licence, address proof) with a scan
  uploaded as ``kyc_document``; each starts ``pending``; one pending document per kind.
* A platform admin (not the holder) verifies or rejects it with a reason; re-submission is a new
  document; a newly verified one supersedes the older verified one of its kind.
* The person's KYC status (stored on the user) is derived from the documents: ``verified`` needs
  a verified, unexpired PAN and a verified, unexpired proof of address (Aadhaar, driving licence
  or address proof) — the PAN plus one officially valid document of the PML Rules.
* People who are not verified may contribute up to ``kyc_contribution_limit`` paise per
  financial year (April–March) across all clubs.
* A daily sweep alerts ``kyc_expiry_alert_days`` ahead of an expiry and marks expired documents.

Every submission, decision and expiry is audited on the platform chain; an Aadhaar number is
encrypted at rest and only its last 4 digits are ever shown, audited or logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import PLATFORM_CHAIN, audit_service
from app.config import get_settings
from app.db import run_in_transaction
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.identity import directory
from app.identity.documents import KycStatus
from app.kyc import crypto, repository
from app.kyc.documents import (
    ADDRESS_KINDS,
    AddressProofType,
    DocumentKind,
    DocumentStatus,
    KycDocument,
    KycExpiryAlert,
)
from app.kyc.errors import (
    CannotDecideOwn,
    DocumentExpired,
    DocumentPending,
    DocumentState,
    InvalidDocument,
    KycDocumentNotFound,
    KycRequired,
    NumberInUse,
)
from app.kyc.schemas import DocumentSubmit, KycExpiryEvent, KycStatusEvent
from app.kyc.validation import (
    aadhaar_problem,
    driving_licence_problem,
    last4,
    masked,
    normalise,
    pan_problem,
)
from app.logging import get_logger
from app.mail.sender import send_mail
from app.money import format_minor
from app.realtime import events
from app.realtime.rooms import person_room

log = get_logger(__name__)

ContributionCounter = Callable[[str, AsyncClientSession, dt.datetime], Awaitable[int]]
"""A domain's count of one person's money since a moment (``kyc_service.count_also``)."""
_EXTRA_COUNTERS: dict[str, ContributionCounter] = {}

KYC_STATUS = "kyc:status"
KYC_EXPIRY = "kyc:expiry"

KIND_LABELS = {
    DocumentKind.PAN: "PAN card",
    DocumentKind.AADHAAR: "Aadhaar",
    DocumentKind.DRIVING_LICENCE: "driving licence",
    DocumentKind.ADDRESS_PROOF: "address proof",
}
RECENT_PROOFS = (AddressProofType.UTILITY_BILL, AddressProofType.BANK_STATEMENT)
EXPIRING_PROOFS = (AddressProofType.PASSPORT, AddressProofType.RENT_AGREEMENT)


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def financial_year_start(day: dt.date) -> dt.date:
    """1 April of the Indian financial year ``day`` falls in."""
    return dt.date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def _slot(kind: DocumentKind) -> str:
    return "pan" if kind == DocumentKind.PAN else "proof_of_address"


def _expired(doc: KycDocument, today: dt.date) -> bool:
    return doc.expires_on is not None and doc.expires_on < today.isoformat()


def derive_status(docs: list[KycDocument], today: dt.date) -> tuple[KycStatus, list[str]]:
    """The KYC status of a person with ``docs`` on ``today`` and what is still missing
    (``pan``, ``proof_of_address``). Precedence: verified, pending, rejected, expired,
    not_started, incomplete — a rejection or expiry counts only for what is missing."""
    live = [d for d in docs if d.status != DocumentStatus.SUPERSEDED]
    valid = {d.kind for d in live if d.status == DocumentStatus.VERIFIED and not _expired(d, today)}
    missing = []
    if DocumentKind.PAN not in valid:
        missing.append("pan")
    if not valid & set(ADDRESS_KINDS):
        missing.append("proof_of_address")
    if not missing:
        return KycStatus.VERIFIED, []
    if any(d.status == DocumentStatus.PENDING for d in live):
        return KycStatus.PENDING, missing
    latest: dict[DocumentKind, KycDocument] = {}
    for doc in sorted(live, key=lambda d: d.submitted_at):
        latest[doc.kind] = doc
    if any(d.status == DocumentStatus.REJECTED and _slot(d.kind) in missing
           for d in latest.values()):  # fmt: skip
        return KycStatus.REJECTED, missing
    if any(
        _slot(d.kind) in missing
        and (d.status == DocumentStatus.EXPIRED
             or (d.status == DocumentStatus.VERIFIED and _expired(d, today)))
        for d in latest.values()
    ):  # fmt: skip
        return KycStatus.EXPIRED, missing
    if not live:
        return KycStatus.NOT_STARTED, missing
    return KycStatus.INCOMPLETE, missing


def shown_number(doc: KycDocument) -> str | None:
    """The number as it may appear in audit records and logs: last 4 only."""
    return masked(doc.kind.value, doc.number_last4) if doc.number_last4 else None


@dataclass(frozen=True, slots=True)
class KycSummary:
    """A person's derived status, what is missing, and their documents (newest first)."""

    status: KycStatus
    missing: list[str]
    documents: list[KycDocument]


@dataclass(slots=True)
class SweepResult:
    """What one expiry sweep did."""

    expired: list[str] = field(default_factory=list)
    alerts: list[KycExpiryAlert] = field(default_factory=list)
    mailed: int = 0


class KycService:
    """Documents, decisions, derived status, the contribution limit and expiry alerts."""

    async def summary(self, user_id: str, today: dt.date | None = None) -> KycSummary:
        """The person's KYC as of ``today`` (default: now), derived from the documents."""
        docs = await repository.documents_of(user_id)
        status, missing = derive_status(docs, today or today_utc())
        return KycSummary(status, missing, docs)

    async def do_refresh_status(self, user_id: str) -> KycStatus:
        """Re-derive the person's KYC status from their documents and store it on the account
        (what ``/me`` shows), so the account and ``/kyc`` agree — for documents written by a
        stand-in reviewer (demo data, test factories) rather than ``do_decide``."""

        async def body(session: AsyncClientSession) -> KycStatus:
            return await self._store_status(user_id, session)

        return await run_in_transaction(body)

    async def _store_status(self, user_id: str, session: AsyncClientSession) -> KycStatus:
        docs = await repository.documents_of(user_id, session)
        status, _ = derive_status(docs, today_utc())
        await directory.do_set_kyc_status(user_id, status.value, session)
        return status

    # ---- submission ----------------------------------------------------------------------

    def check_details(self, user_id: str, data: DocumentSubmit, today: dt.date) -> dict[str, Any]:
        """Validate a submission's number and dates; return the fields to store.

        Raises:
            InvalidDocument (``details.field``), DocumentExpired.
        """
        settings = get_settings()
        kind = data.kind
        fields: dict[str, Any] = {
            "issued_on": data.issued_on.isoformat() if data.issued_on else None,
            "expires_on": data.expires_on.isoformat() if data.expires_on else None,
        }
        if data.issued_on is not None and data.issued_on > today:
            raise InvalidDocument("the issue date is in the future", details={"field": "issued_on"})
        if data.expires_on is not None and data.expires_on < today:
            raise DocumentExpired("this document has expired", details={"field": "expires_on"})
        if kind in (DocumentKind.PAN, DocumentKind.AADHAAR, DocumentKind.DRIVING_LICENCE):
            number = normalise(data.number or "")
            checker = {DocumentKind.PAN: pan_problem, DocumentKind.AADHAAR: aadhaar_problem,
                       DocumentKind.DRIVING_LICENCE: driving_licence_problem}[kind]  # fmt: skip
            problem = "the document number is required" if not number else checker(number)
            if problem:
                raise InvalidDocument(problem, details={"field": "number"})
            fields["number_last4"] = last4(number)
            fields["fingerprint"] = crypto.fingerprint(settings, kind.value, number)
            if kind == DocumentKind.AADHAAR:
                fields["number_encrypted"] = crypto.encrypt_number(
                    settings, number, f"{user_id}:{kind.value}"
                )
            else:
                fields["number"] = number
        if kind in (DocumentKind.PAN, DocumentKind.AADHAAR):
            fields["expires_on"] = None  # neither expires
        if kind == DocumentKind.DRIVING_LICENCE and data.expires_on is None:
            raise InvalidDocument("a driving licence needs its expiry date",
                                  details={"field": "expires_on"})  # fmt: skip
        if kind == DocumentKind.ADDRESS_PROOF:
            if data.proof_type is None:
                raise InvalidDocument("say what the address proof is",
                                      details={"field": "proof_type"})  # fmt: skip
            if data.issued_on is None:
                raise InvalidDocument("an address proof needs its issue date",
                                      details={"field": "issued_on"})  # fmt: skip
            max_age = settings.kyc_address_proof_max_age_days
            if data.proof_type in RECENT_PROOFS and (today - data.issued_on).days > max_age:
                raise InvalidDocument(
                    f"a bill or bank statement must be at most {max_age} days old",
                    details={"field": "issued_on", "max_age_days": max_age},
                )
            if data.proof_type in EXPIRING_PROOFS and data.expires_on is None:
                raise InvalidDocument("this proof needs its expiry date",
                                      details={"field": "expires_on"})  # fmt: skip
            fields["proof_type"] = data.proof_type
        return fields

    async def do_submit(
        self, user_id: str, data: DocumentSubmit, actor_id: str | None = None
    ) -> KycDocument:
        """Submit ``user_id``'s document for review (status ``pending``); the person's status is
        re-derived. ``actor_id``: who submitted it when not the holder (staff scanning it for
        them), recorded as the audit record's actor with ``details.on_behalf_of``.

        Raises:
            InvalidDocument, DocumentExpired, FileNotFound, WrongFilePurpose, FileInUse,
            DocumentPending (a document of this kind awaits review), NumberInUse.
        """
        today = today_utc()
        fields = self.check_details(user_id, data, today)
        await files_service.check_own(data.file_id, user_id, FilePurpose.KYC_DOCUMENT)
        fingerprint = fields.get("fingerprint")
        if fingerprint and await repository.number_elsewhere(fingerprint, user_id):
            raise NumberInUse("this document is registered to another account")

        async def body(session: AsyncClientSession) -> KycDocument:
            # Writing the user first serialises this person's KYC changes: a concurrent
            # submission conflicts here and is retried, then sees the pending document.
            await directory.do_touch(user_id, session)
            if await repository.pending_of_kind(user_id, data.kind, session) is not None:
                raise DocumentPending(
                    "a document of this kind is already waiting for review",
                    details={"kind": data.kind.value},
                )
            doc = KycDocument(user_id=user_id, kind=data.kind, file_id=data.file_id, **fields)
            await repository.insert_document(doc, session)
            await files_service.do_attach(data.file_id, "kyc_document", str(doc.id), session)
            details = {"user_id": user_id, "kind": doc.kind.value, "number": shown_number(doc),
                       "expires_on": doc.expires_on}  # fmt: skip
            if actor_id and actor_id != user_id:
                details["on_behalf_of"] = user_id
            await audit_service.do_append(
                chain=PLATFORM_CHAIN, actor_id=actor_id or user_id, action="kyc.submitted",
                target_type="kyc_document", target_id=str(doc.id), details=details,
                session=session,
            )  # fmt: skip
            await self._store_status(user_id, session)
            return doc

        doc = await run_in_transaction(body)
        log.info("kyc document submitted", user_id=user_id, kind=doc.kind.value,
                 document_id=str(doc.id), number=shown_number(doc))  # fmt: skip
        return doc

    async def own_document(self, user_id: str, doc_id: str) -> KycDocument:
        """One of the person's documents. Raises ``KycDocumentNotFound``."""
        doc = await repository.get_document(doc_id)
        if doc is None or doc.user_id != user_id:
            raise KycDocumentNotFound("no such document")
        return doc

    # ---- review --------------------------------------------------------------------------

    async def document(self, doc_id: str) -> KycDocument:
        """Any document (for admins). Raises ``KycDocumentNotFound``."""
        doc = await repository.get_document(doc_id)
        if doc is None:
            raise KycDocumentNotFound("no such document")
        return doc

    async def do_decide(
        self, actor_id: str, doc_id: str, *, verify: bool, reason: str | None
    ) -> tuple[KycDocument, KycStatus]:
        """Verify or reject a pending document (a platform admin who is not its holder) and
        re-derive the holder's status, audited, and log ``kyc:status`` in the holder's own log
        (``person:<id>``), in one transaction. Then the holder is mailed (best effort).

        Raises:
            KycDocumentNotFound, CannotDecideOwn, DocumentState (decided already),
            DocumentExpired (verifying a document past its expiry), NumberInUse.
        """
        today = today_utc()
        now = dt.datetime.now(dt.UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        reason = (reason or "").strip() or None
        known = await repository.get_document(doc_id)
        if known is not None:  # the holder's log counter, before the transaction
            await events.ensure_room(person_room(known.user_id))

        async def body(session: AsyncClientSession) -> tuple[KycDocument, KycStatus]:
            doc = await repository.get_document(doc_id, session)
            if doc is None:
                raise KycDocumentNotFound("no such document")
            if doc.user_id == actor_id:
                raise CannotDecideOwn("an admin cannot decide their own documents")
            await directory.do_touch(doc.user_id, session)
            if doc.status != DocumentStatus.PENDING:
                raise DocumentState("this document was decided already",
                                    details={"status": doc.status.value})  # fmt: skip
            if verify and _expired(doc, today):
                raise DocumentExpired("this document has expired: reject it",
                                      details={"field": "expires_on"})  # fmt: skip
            if (
                verify
                and doc.fingerprint
                and await repository.number_elsewhere(doc.fingerprint, doc.user_id, session)
            ):
                raise NumberInUse("this document is registered to another account")  # fmt: skip
            new_status = DocumentStatus.VERIFIED if verify else DocumentStatus.REJECTED
            changes = {"status": new_status.value, "decided_at": now, "decided_by": actor_id,
                       "reason": reason}  # fmt: skip
            assert doc.id is not None
            if not await repository.set_status(doc.id, DocumentStatus.PENDING, changes, session):
                raise DocumentState("this document was decided meanwhile")
            if verify:
                await repository.supersede_verified(doc.user_id, doc.kind, doc.id, session)
            await audit_service.do_append(
                chain=PLATFORM_CHAIN, actor_id=actor_id,
                action="kyc.verified" if verify else "kyc.rejected",
                target_type="kyc_document", target_id=doc_id,
                details={"user_id": doc.user_id, "kind": doc.kind.value,
                         "number": shown_number(doc), "reason": reason},
                session=session,
            )  # fmt: skip
            status = await self._store_status(doc.user_id, session)
            doc.status, doc.decided_at = new_status, now
            doc.decided_by, doc.reason = actor_id, reason
            await self._log_status(session, doc, status)
            return doc, status

        doc, status = await run_in_transaction(body)
        log.info("kyc document decided", document_id=doc_id, decision=doc.status.value,
                 admin=actor_id, number=shown_number(doc))  # fmt: skip
        await self._tell_holder(doc, status)
        return doc, status

    async def _tell_holder(self, doc: KycDocument, status: KycStatus) -> None:
        settings = get_settings()
        users = await directory.users_by_id([doc.user_id])
        user = users.get(doc.user_id)
        if user is None:
            return
        label = KIND_LABELS[doc.kind]
        if doc.status == DocumentStatus.VERIFIED:
            subject, text = f"Your {label} is verified", f"Your {label} was verified."
        else:
            subject = f"Your {label} needs another look"
            text = f"Your {label} was not accepted: {doc.reason}\n\nPlease submit it again."
        body = (f"Hello {user.full_name},\n\n{text}\n\nYour KYC status is now: "
                f"{status.value.replace('_', ' ')}.\n\n— Samooh")  # fmt: skip
        await send_mail(settings, to=user.email, subject=subject, body=body)

    async def _log_status(
        self, session: AsyncClientSession, doc: KycDocument, status: KycStatus
    ) -> None:
        """``kyc:status`` in the holder's own log, in the transaction that changed the
        document (its room's counter exists: ``ensure_room`` before the transaction)."""
        await events.room_event(
            session, person_room(doc.user_id), KYC_STATUS, KycStatusEvent,
            document_id=str(doc.id), kind=doc.kind.value, document_status=doc.status.value,
            kyc_status=status.value, reason=doc.reason,
        )  # fmt: skip

    async def pending_queue(
        self, kind: DocumentKind | None, limit: int
    ) -> tuple[list[KycDocument], int, dict[str, Any]]:
        """Pending documents oldest first, their total, and their holders by id."""
        items, total = await repository.pending_queue(kind, limit)
        users = await directory.users_by_id([d.user_id for d in items])
        return items, total, users

    async def history(
        self, *, document_id: str | None = None, user_id: str | None = None
    ) -> list[Any]:
        """Audited steps of a document or person, oldest first."""
        return await repository.history(document_id=document_id, user_id=user_id)

    # ---- the contribution limit ----------------------------------------------------------

    def limit_period_start(self, day: dt.date | None = None) -> dt.datetime:
        """Start (UTC midnight) of the financial year (April–March) holding ``day``: the period
        over which ``kyc_contribution_limit`` counts a person's money."""
        return dt.datetime.combine(financial_year_start(day or today_utc()), dt.time(), dt.UTC)

    async def check_contribution_allowed(self, user_id: str, amount: int, contributed: int) -> None:
        """Refuse ``amount`` paise from a person who is not KYC-verified when it would take the
        money they put in this financial year (``contributed`` paise since
        ``limit_period_start``: paid, settled or on the way, all pools) above
        ``kyc_contribution_limit``. The domain taking the money counts ``contributed``.

        Raises:
            KycRequired (403 ``kyc_required``).
        """
        limit = get_settings().kyc_contribution_limit
        summary = await self.summary(user_id, today_utc())
        if summary.status == KycStatus.VERIFIED:
            return
        if contributed + amount > limit:
            raise KycRequired(
                f"complete KYC to contribute more than {format_minor(limit)} in a financial year",
                details={"kyc_status": summary.status.value, "missing": summary.missing,
                         "limit": format_minor(limit), "contributed": format_minor(contributed),
                         "amount": format_minor(amount)},
            )  # fmt: skip

    async def ensure_allowance(self, user_id: str, day: dt.date | None = None) -> None:
        """Make sure the person's allowance of the financial year holding ``day`` (default
        today) exists; call it before the transaction that uses ``do_reserve_allowance``."""
        year = financial_year_start(day or today_utc()).isoformat()
        await repository.ensure_allowance(user_id, year)

    def count_also(self, domain: str, counter: ContributionCounter) -> None:
        """Register ``domain``'s count of a person's money toward the yearly limit
        (``counter(user_id, session, since)`` → paise): every ``do_reserve_allowance`` of
        another domain adds it, so one person's total across clubs and campaigns is one
        figure. Called once, when the domain's service module is imported."""
        _EXTRA_COUNTERS[domain] = counter

    async def do_reserve_allowance(
        self,
        session: AsyncClientSession,
        user_id: str,
        amount: int,
        contributed: Callable[[AsyncClientSession, dt.datetime], Awaitable[int]],
        *,
        domain: str | None = None,
    ) -> None:
        """Check and use ``amount`` paise of the person's yearly limit atomically, inside the
        caller's transaction (which then inserts the money it counts).

        It first writes the person's allowance of this financial year (``ensure_allowance``
        made it), so two such transactions of one person conflict and the later one is
        retried by the driver; only then does it count ``contributed(session, since)`` — the
        paise the person put in since ``limit_period_start``, counted by the domain taking the
        money, in the same snapshot — and apply ``check_contribution_allowed``. Without that
        first write two contributions at once could each see the other's money missing and
        both pass (issue #20). A verified person takes the allowance too (no limit applies).
        The counts other domains registered with ``count_also`` are added (not the caller's
        own ``domain``'s, which ``contributed`` counts). ``amount`` and what ``contributed``
        counts are INR paise (money in another currency converted by the caller, app/fx.py);
        the allowance's ``reserved`` grows by ``amount`` only when it is accepted.

        Raises:
            KycRequired (403 ``kyc_required``); the caller's transaction then writes nothing.
        """
        since = self.limit_period_start()
        year = since.date().isoformat()
        taken = await repository.take_allowance(user_id, year, 0, session)
        if taken is None:
            raise RuntimeError("ensure_allowance() was not called before the transaction")
        total = await contributed(session, since)
        for name, counter in sorted(_EXTRA_COUNTERS.items()):
            if name != domain:
                total += await counter(user_id, session, since)
        await self.check_contribution_allowed(user_id, amount, total)
        await repository.take_allowance(user_id, year, amount, session, count=False)

    # ---- expiry --------------------------------------------------------------------------

    async def do_expiry_sweep(self, today: dt.date | None = None) -> SweepResult:
        """The daily job: mark verified documents past their expiry ``expired`` (re-deriving the
        holder's status, audited), store one alert per document and threshold — the nearest of
        ``kyc_expiry_alert_days`` at or above the days left, and 0 for "has expired" — then mail
        every alert not mailed yet (a failed mail is retried by the next sweep) and log
        ``kyc:expiry`` in the holder's own log (``person:<id>``); an expired document also logs
        ``kyc:status``. Idempotent: a re-run sends nothing twice."""
        settings = get_settings()
        day = today or today_utc()
        result = SweepResult()
        for doc in await repository.verified_expired(day.isoformat()):
            if await self._expire(doc):
                result.expired.append(str(doc.id))
            alert = await self._alert(doc, 0)
            if alert is not None:
                result.alerts.append(alert)
        thresholds = settings.kyc_expiry_alert_days
        horizon = (day + dt.timedelta(days=max(thresholds))).isoformat()
        for doc in await repository.verified_expiring(horizon, day.isoformat()):
            assert doc.expires_on is not None
            days_left = (dt.date.fromisoformat(doc.expires_on) - day).days
            threshold = min(t for t in thresholds if t >= days_left)
            alert = await self._alert(doc, threshold)
            if alert is not None:
                result.alerts.append(alert)
        for alert in result.alerts:
            await self._emit_alert(alert, day)
        result.mailed = await self._mail_alerts(day)
        return result

    async def _expire(self, doc: KycDocument) -> bool:
        await events.ensure_room(person_room(doc.user_id))

        async def body(session: AsyncClientSession) -> bool:
            assert doc.id is not None
            moved = await repository.set_status(
                doc.id, DocumentStatus.VERIFIED, {"status": DocumentStatus.EXPIRED.value}, session
            )
            if not moved:
                return False
            await audit_service.do_append(
                chain=PLATFORM_CHAIN, actor_id=None, action="kyc.expired",
                target_type="kyc_document", target_id=str(doc.id),
                details={"user_id": doc.user_id, "kind": doc.kind.value,
                         "number": shown_number(doc), "expires_on": doc.expires_on},
                session=session,
            )  # fmt: skip
            status = await self._store_status(doc.user_id, session)
            doc.status = DocumentStatus.EXPIRED
            await self._log_status(session, doc, status)
            return True

        return await run_in_transaction(body)

    async def _alert(self, doc: KycDocument, days_before: int) -> KycExpiryAlert | None:
        assert doc.expires_on is not None
        alert = KycExpiryAlert(document_id=str(doc.id), user_id=doc.user_id, kind=doc.kind,
                               expires_on=doc.expires_on, days_before=days_before)  # fmt: skip
        return alert if await repository.insert_alert(alert) else None

    async def _emit_alert(self, alert: KycExpiryAlert, day: dt.date) -> None:
        days_left = (dt.date.fromisoformat(alert.expires_on) - day).days
        # The alert is stored first; the event joins the holder's own log right after, so a
        # screen that was away replays it (and GET /api/v1/kyc/alerts lists the alert).
        room = person_room(alert.user_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> None:
            await events.room_event(
                session, room, KYC_EXPIRY, KycExpiryEvent, document_id=alert.document_id,
                kind=alert.kind.value, expires_on=alert.expires_on, days_left=max(days_left, 0),
            )  # fmt: skip

        await run_in_transaction(body)

    async def _mail_alerts(self, day: dt.date) -> int:
        settings = get_settings()
        alerts = await repository.unmailed_alerts()
        users = await directory.users_by_id([a.user_id for a in alerts])
        mailed = 0
        for alert in alerts:
            user = users.get(alert.user_id)
            if user is None:
                continue
            label = KIND_LABELS[alert.kind]
            expires = dt.date.fromisoformat(alert.expires_on)
            if alert.days_before == 0:
                subject = f"Your {label} has expired"
                line = (f"Your {label} expired on {expires:%d %b %Y}, so your KYC is no longer "
                        "complete.")  # fmt: skip
            else:
                days_left = max((expires - day).days, 0)
                subject = f"Your {label} expires in {days_left} day{'s' if days_left != 1 else ''}"
                line = f"Your {label} expires on {expires:%d %b %Y}."
            body = (f"Hello {user.full_name},\n\n{line} Please upload a current one at "
                    f"{settings.public_url} to keep your KYC verified — contributions above "
                    f"{format_minor(settings.kyc_contribution_limit)} a year need it.\n\n"
                    "— Samooh")  # fmt: skip
            if await send_mail(settings, to=user.email, subject=subject, body=body):
                await repository.mark_mailed(alert)
                mailed += 1
        return mailed

    async def alerts_of(self, user_id: str) -> list[KycExpiryAlert]:
        """The person's expiry alerts, newest first."""
        return await repository.alerts_of(user_id)


kyc_service = KycService()
