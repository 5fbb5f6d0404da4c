"""The CRM's rules: leads (capture, dedupe, lifecycle, assignment, merge and undo, import),
clients (conversion, profile, portfolio, KYC), follow-up reminders, scores, reports and data
protection. ``check_*`` validates, ``do_*`` changes state; every read and change takes the
acting ``Actor``, whose scope is applied in every query (an agent's leads, a manager's team's,
an admin's all) — outside it a record does not exist (404)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from rapidfuzz import fuzz
from redis.asyncio import Redis

from app.advisory.documents import AdvisoryAccount, RiskAssessment
from app.advisory.errors import NoRiskProfile
from app.advisory.service import advisory_service
from app.audit.service import audit_service
from app.config import get_settings
from app.crm import board, people, portfolio, privacy, repository, retention
from app.crm.contact import normalise_email, normalise_name, normalise_phone
from app.crm.documents import (
    ENGAGEMENT_KINDS,
    SCORE_FIELDS,
    STAGES,
    TRANSITIONS,
    Activity,
    ActivityKind,
    Client,
    ClientStatus,
    ContactPreferences,
    CrmKycAlert,
    CrmScoreRules,
    CrmStaff,
    InvestmentProfile,
    Lead,
    LeadMerge,
    LeadSource,
    LeadStatus,
    Reminder,
    ReminderStatus,
    ScoreParts,
    Segment,
)
from app.crm.errors import (
    AssigneeInvalid,
    ClientNotFound,
    ClientNotMember,
    ConvertRequired,
    DuplicateLead,
    ErasedSubject,
    IllegalTransition,
    ImportInvalid,
    InvalidContact,
    KycReasonRequired,
    LeadChanged,
    LeadMergedAway,
    LeadNotFound,
    LostReasonRequired,
    MergeNotFound,
    MergeRefused,
    ReminderInPast,
    ReminderNotFound,
    ReminderState,
    RiskFromQuestionnaire,
    ScoreRulesChanged,
    ScoreRulesInvalid,
    StaffNotFound,
    UndoRefused,
)
from app.crm.schemas import (
    BoardChange,
    ClientChange,
    ClientCreate,
    ClientKycUpload,
    ClientPatch,
    ConvertRequest,
    CountRow,
    CrmReport,
    FunnelRow,
    ImportReport,
    ImportRow,
    KycCompliance,
    LeadCreate,
    LeadPatch,
    RateRow,
    ReminderCreate,
    ReminderDueEvent,
    ReminderOut,
    RuleProblem,
    ScoreRulesPut,
    WebFormRequest,
)
from app.crm.settings import CrmSettings, crm_settings
from app.db import run_in_transaction
from app.errors import AppError, ValidationFailed
from app.files.documents import FilePurpose, StoredFile
from app.files.errors import FileNotFound
from app.files.service import files_service
from app.identity.documents import PlatformRole
from app.identity.errors import Forbidden
from app.kyc.documents import DocumentStatus, KycDocument
from app.kyc.errors import DocumentPending
from app.kyc.schemas import DocumentSubmit
from app.kyc.service import KycSummary, kyc_service, today_utc
from app.logging import get_logger
from app.mail.sender import send_mail
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.ratelimit import rate_limiter
from app.realtime import eventlog, events
from app.realtime.eventlog import iso, utcnow

log = get_logger(__name__)

AUDIT_CHAIN = "crm"
ERASED_LEAD_FIELDS = {
    "lead.full_name": "(erased)",
    "lead.email": None,
    "lead.phone": None,
    "lead.city": None,
    "lead.company": None,
    "lead.message": None,
}
"""What an erasure overwrites in the ``crm:lead`` events the boards' logs keep of the lead."""
REMINDER_EVENT = "crm:reminder"
OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
REMINDER_PAST_GRACE = dt.timedelta(minutes=10)  # a follow-up "now" typed a moment ago is fine
IMPORT_CHUNK = 100  # rows stored per transaction by an import
BOARD_CATCH_UP_LIMIT = 500  # board events replayed to a reconnecting socket at most
IMPORT_FIELD_SENTENCES = {  # a column out of shape, said plainly
    "full_name": "the full_name column needs a name (up to 120 characters)",
    "investment_capacity": "the investment_capacity column needs an amount such as 250000.00",
    "source": "the source column must be one of web_form, manual, import, referral, event",
    "email": "the email column is too long for an e-mail address",
    "phone": "the phone column is too long for a phone number",
}
IMPORT_COLUMNS = ("full_name", "email", "phone", "city", "company", "investment_capacity",
                  "source", "message")  # fmt: skip
Filter = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts and what they may see: ``owner_ids`` None means everything (admin, who also
    triages unassigned leads); managers see their own and their team's, agents their own."""

    user_id: str
    role: str  # admin | crm_manager | crm_agent
    owner_ids: frozenset[str] | None
    unassigned: bool

    @property
    def scope(self) -> Filter:
        """The filter every lead and client query of this actor carries."""
        if self.owner_ids is None:
            return {}
        owned: Filter = {"owner_id": {"$in": sorted(self.owner_ids)}}
        return {"$or": [owned, {"owner_id": None}]} if self.unassigned else owned

    def sees_owner(self, owner_id: str | None) -> bool:
        """Whether a record owned by ``owner_id`` is in scope."""
        if self.owner_ids is None:
            return True
        return owner_id in self.owner_ids if owner_id else self.unassigned


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    """What an erasure did to the person's platform account: ``erased`` (anonymised),
    ``kept`` (``retained`` says what keeps it and why) or ``none`` (they have none)."""

    state: Literal["erased", "kept", "none"]
    retained: list[retention.Retained]


def scoped(actor: Actor, query: Filter) -> Filter:
    """``query`` within the actor's scope."""
    scope = actor.scope
    if not scope:
        return query
    return {"$and": [scope, query]} if query else scope


def _bp(numerator: int, denominator: int) -> int:
    """``numerator ÷ denominator`` in basis points, half-even (0 for an empty denominator)."""
    if denominator == 0:
        return 0
    value = Decimal(numerator * 10_000) / Decimal(denominator)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def segment_of(capacity: int | None, settings: CrmSettings) -> Segment:
    """The client segment of a declared investment capacity (paise)."""
    if capacity is None:
        return Segment.UNKNOWN
    if capacity >= settings.segment_hni_from:
        return Segment.HNI
    if capacity >= settings.segment_affluent_from:
        return Segment.AFFLUENT
    return Segment.MASS


@dataclass(frozen=True, slots=True)
class Contact:
    """Normalised contact details of a new or changed record."""

    full_name: str
    email: str | None
    phone: str | None

    @property
    def phone_fp(self) -> str | None:
        """The phone's keyed fingerprint (the exact-duplicate key)."""
        return privacy.fingerprint("phone", self.phone) if self.phone else None


def _contact(full_name: str, email: str | None, phone: str | None) -> Contact:
    settings = crm_settings()
    name = normalise_name(full_name)
    if not name:
        raise InvalidContact("a name is required", details={"field": "full_name"})
    mail = normalise_email(email) if email and email.strip() else None
    tel = normalise_phone(phone, settings.default_phone_region) if phone and phone.strip() else None
    return Contact(name, mail, tel)


def name_tokens(full_name: str) -> list[str]:
    """The lower-cased words of a name (two letters or more): the near-duplicate blocking key
    (two people with similar names share at least one word)."""
    return sorted({w for w in full_name.lower().replace(".", " ").split() if len(w) >= 2})


def _search_text(*parts: str | None) -> str:
    return " ".join(p.lower() for p in parts if p)


async def _audit(
    session: AsyncClientSession, actor_id: str | None, action: str, target_type: str,
    target_id: str, **details: Any,
) -> None:  # fmt: skip
    """One record on the CRM chain naming the record by its keyed hash, never its data, so an
    erasure leaves the chain verifiable."""
    await audit_service.do_append(
        chain=AUDIT_CHAIN, actor_id=actor_id, action=action, target_type=target_type,
        target_id=privacy.subject_hash(target_id), details=details, session=session,
    )  # fmt: skip


class CrmService:
    """Leads, clients, reminders, scores, reports, data protection."""

    # ---- who is acting ------------------------------------------------------------------

    async def actor(self, user_id: str, roles: list[str]) -> Actor:
        """The actor for a principal's id and roles. An admin sees all; a manager their own and
        their team's records; an agent their own."""
        if PlatformRole.ADMIN.value in roles:
            return Actor(user_id, "admin", None, True)
        if PlatformRole.CRM_MANAGER.value in roles:
            team = await repository.team_of(user_id)
            return Actor(user_id, "crm_manager", frozenset({user_id, *team}), False)
        return Actor(user_id, "crm_agent", frozenset({user_id}), False)

    # ---- staff and assignment -----------------------------------------------------------

    async def staff(self, actor: Actor) -> list[tuple[CrmStaff, Any]]:
        """CRM staff the actor may assign to (admins: all; managers: their team and
        themselves; agents: themselves), with their accounts."""
        members = {s.id: s for s in await repository.all_staff()}
        candidates = await people.users(list(members))
        out = []
        for uid, user in sorted(candidates.items(), key=lambda kv: kv[1].full_name):
            if actor.owner_ids is not None and uid not in actor.owner_ids:
                continue
            out.append((members[uid], user))
        return out

    async def do_put_staff(
        self, actor: Actor, user_id: str, manager_id: str | None, active: bool
    ) -> CrmStaff:
        """Register a CRM agent or manager (admin only: the route checks) with their team.

        Raises:
            StaffNotFound: the user does not hold a CRM role.
            AssigneeInvalid: ``manager_id`` is not a CRM manager.
        """
        found = await people.users([user_id, manager_id or ""])
        user = found.get(user_id)
        if user is None or not (
            {PlatformRole.CRM_AGENT, PlatformRole.CRM_MANAGER} & set(user.roles)
        ):
            raise StaffNotFound("that person holds no CRM role")
        if manager_id is not None:
            manager = found.get(manager_id)
            if manager is None or PlatformRole.CRM_MANAGER not in manager.roles:
                raise AssigneeInvalid("the manager must hold the crm_manager role",
                                      details={"field": "manager_id"})  # fmt: skip
        member = CrmStaff(id=user_id, manager_id=manager_id, active=active, updated_at=utcnow())
        await repository.save_staff(member)
        await audit_service.do_append(
            chain=AUDIT_CHAIN, actor_id=actor.user_id, action="crm.staff.put",
            target_type="user", target_id=user_id,
            details={"manager_id": manager_id, "active": active},
        )  # fmt: skip
        return member

    async def _active_agents(self) -> list[str]:
        """Ids of the active CRM agents, in the order round robin serves them."""
        members = [s for s in await repository.all_staff() if s.active]
        accounts = await people.users([s.id for s in members])
        return sorted(s.id for s in members if s.id in accounts
                      and PlatformRole.CRM_AGENT in accounts[s.id].roles)  # fmt: skip

    async def _next_of(self, agents: list[str]) -> str | None:
        """The agent whose turn it is (one shared counter), or None without agents."""
        if not agents:
            return None
        turn = await repository.next_counter("round_robin")
        return agents[(turn - 1) % len(agents)]

    async def _round_robin(self) -> str | None:
        """The next active agent in turn (by id), or None when there is none."""
        return await self._next_of(await self._active_agents())

    async def check_assignee(self, actor: Actor, owner_id: str) -> None:
        """``owner_id`` is active CRM staff the actor may hand work to.

        Raises:
            AssigneeInvalid: not staff, inactive, or outside the actor's team.
        """
        member = await repository.staff(owner_id)
        account = (await people.users([owner_id])).get(owner_id)
        staff_role = account is not None and bool(
            {PlatformRole.CRM_AGENT, PlatformRole.CRM_MANAGER} & set(account.roles))  # fmt: skip
        if member is None or not member.active or not staff_role:
            raise AssigneeInvalid("assign to an active CRM agent or manager",
                                  details={"field": "owner_id"})  # fmt: skip
        if actor.owner_ids is not None and owner_id not in actor.owner_ids:
            raise AssigneeInvalid("you may assign only within your team",
                                  details={"field": "owner_id"})  # fmt: skip

    # ---- leads: capture -----------------------------------------------------------------

    async def do_web_form(self, data: WebFormRequest, ip: str | None) -> None:
        """A lead from the public web form. Rate limited per client address and per e-mail
        address submitted (429). A filled honeypot is answered the same and stored nowhere; a
        known contact adds a ``web_form`` activity to the existing lead (the answer never
        tells whether the person was known).

        Raises:
            RateLimited, InvalidContact.
        """
        settings = crm_settings()
        await rate_limiter().hit("crm_web_form", settings.rate_limit_web_form, ip or "-")
        contact = _contact(data.full_name, data.email, data.phone)
        if contact.email is None:  # the form needs an address to answer (found by the fuzz)
            raise InvalidContact("give an e-mail address", details={"field": "email"})
        await rate_limiter().hit("crm_web_form_email", settings.rate_limit_web_form_email,
                                 contact.email)  # fmt: skip
        if data.website and data.website.strip():
            log.info("crm web form: honeypot filled; dropped")
            return
        existing = await repository.lead_by_contact(contact.email, contact.phone_fp)
        if existing is not None and existing.status is LeadStatus.MERGED and existing.merged_into:
            existing = await repository.lead(existing.merged_into, {}) or existing
        if existing is not None:
            await self._add_activity(None, str(existing.id), ActivityKind.WEB_FORM,
                                     data.message or "", {"resubmitted": True})  # fmt: skip
            return
        try:
            await self._insert_lead(
                None, contact, source=LeadSource.WEB_FORM, city=data.city, company=None,
                capacity=None, message=data.message, owner_id=await self._round_robin(),
            )  # fmt: skip
        except DuplicateLead:  # a concurrent submission of the same person won the race
            return

    async def do_create_lead(
        self, actor: Actor, data: LeadCreate, *, find_near: bool = True
    ) -> tuple[Lead, list[Any]]:
        """Manual entry. The owner is the given one (checked), else the entering agent, else
        the next agent in turn. Returns the lead and its near duplicates.

        Raises:
            InvalidContact, DuplicateLead (409, the same e-mail or phone), AssigneeInvalid.
        """
        contact = _contact(data.full_name, data.email, data.phone)
        if data.owner_id:
            await self.check_assignee(actor, data.owner_id)
            owner: str | None = data.owner_id
        elif actor.role == "crm_agent":
            owner = actor.user_id
        else:
            owner = await self._round_robin()
        lead = await self._insert_lead(
            actor, contact, source=data.source, city=data.city, company=data.company,
            capacity=data.investment_capacity, message=data.message, owner_id=owner,
        )  # fmt: skip
        return lead, await self.near_duplicates(actor, lead) if find_near else []

    async def _duplicate(self, actor: Actor | None, contact: Contact) -> None:
        existing = await repository.lead_by_contact(contact.email, contact.phone_fp)
        if existing is None:
            return
        field = "email" if contact.email and contact.email in (
            existing.dedupe_email, existing.held_email) else "phone"  # fmt: skip
        details: Filter = {"field": field}
        if existing.status is LeadStatus.MERGED and existing.merged_into:
            # Reserved by a merged-away lead: the person is the lead it was merged into.
            winner = await repository.lead(existing.merged_into, {})
            existing = winner or existing
            details["merged"] = True
        if actor is not None and actor.sees_owner(existing.owner_id):
            details["lead_id"] = str(existing.id)
        raise DuplicateLead(f"a lead with this {field} exists", details=details)

    async def _build_lead(
        self, actor: Actor | None, contact: Contact, *, source: LeadSource, city: str | None,
        company: str | None, capacity: int | None, message: str | None, owner_id: str | None,
        rules: CrmScoreRules | None = None,
    ) -> tuple[Lead, Activity]:  # fmt: skip
        """A new lead (scored by ``rules``, else those in force: no activity yet) and its
        ``created`` activity, not stored."""
        lead_id = PydanticObjectId()
        now = utcnow()
        lead = Lead(
            id=lead_id, full_name=contact.full_name, email=contact.email,
            dedupe_email=contact.email,
            phone_sealed=privacy.seal(contact.phone, f"lead:{lead_id}:phone") if contact.phone
            else None,
            phone_last4=contact.phone[-4:] if contact.phone else None,
            dedupe_phone=contact.phone_fp, city=city, company=company,
            investment_capacity=capacity, message=message, source=source, owner_id=owner_id,
            created_by=actor.user_id if actor else None,
            search_text=_search_text(contact.full_name, contact.email, message),
            name_tokens=name_tokens(contact.full_name),
            created_at=now, updated_at=now, last_activity_at=now,
        )  # fmt: skip
        lead.score_parts = await self.compute_score(lead, now, engagement_count=0, rules=rules)
        lead.score = lead.score_parts.total
        created = Activity(
            lead_id=str(lead_id), kind=ActivityKind.CREATED, text=message or "",
            actor_id=actor.user_id if actor else None,
            data={"source": source.value, "owner_id": owner_id}, at=now,
        )  # fmt: skip
        return lead, created

    async def _store_leads(self, actor: Actor | None, built: list[tuple[Lead, Activity]]) -> None:
        """Insert leads with their ``created`` activities and audit records in one
        transaction, shown on the boards of their owners (``crm:lead`` created). Raises
        ``DuplicateKeyError`` when a unique contact is taken."""
        who = await board.audience(lead.owner_id for lead, _ in built)

        async def body(session: AsyncClientSession) -> None:
            await repository.insert_leads([lead for lead, _ in built], session)
            await repository.insert_activities([created for _, created in built], session)
            await board.record(session, who, [lead for lead, _ in built], "created")
            if len(built) == 1:
                lead = built[0][0]
                await _audit(session, actor.user_id if actor else None, "crm.lead.create",
                             "lead", str(lead.id), source=lead.source.value,
                             owner_id=lead.owner_id)  # fmt: skip
                return
            # One record for an imported chunk, naming each lead by its keyed hash.
            await audit_service.do_append(
                chain=AUDIT_CHAIN, actor_id=actor.user_id if actor else None,
                action="crm.lead.import", target_type="leads",
                target_id=privacy.subject_hash(str(built[0][0].id)),
                details={"leads": [privacy.subject_hash(str(lead.id)) for lead, _ in built],
                         "owners": sorted({lead.owner_id or "" for lead, _ in built})},
                session=session,
            )  # fmt: skip

        await run_in_transaction(body)

    async def _insert_lead(
        self, actor: Actor | None, contact: Contact, *, source: LeadSource, city: str | None,
        company: str | None, capacity: int | None, message: str | None, owner_id: str | None,
    ) -> Lead:  # fmt: skip
        await self._duplicate(actor, contact)
        lead, created = await self._build_lead(
            actor, contact, source=source, city=city, company=company, capacity=capacity,
            message=message, owner_id=owner_id,
        )  # fmt: skip
        try:
            await self._store_leads(actor, [(lead, created)])
        except DuplicateKeyError as exc:  # a concurrent insert won the unique index
            raise DuplicateLead("a lead with this e-mail or phone exists",
                                details={"field": "email" if "email" in str(exc) else "phone"}
                                ) from exc  # fmt: skip
        return lead

    async def do_import(self, actor: Actor, text: str, source: LeadSource) -> ImportReport:
        """Create a lead per CSV row (header row first; columns ``IMPORT_COLUMNS``); each row is
        created or refused on its own, with its code and message.

        Raises:
            ImportInvalid: no header, no ``full_name`` column, unknown columns, too many rows.
        """
        settings = crm_settings()
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        try:
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            raw_rows = list(reader)
        except csv.Error as exc:  # a NUL byte, a field over the csv module's size limit …
            raise ImportInvalid(f"the file is not readable CSV: {exc}") from exc
        if "full_name" not in header:
            raise ImportInvalid("the first row must name the columns, full_name among them",
                                details={"columns": list(IMPORT_COLUMNS)})  # fmt: skip
        unknown = [h for h in header if h not in IMPORT_COLUMNS]
        if unknown:
            raise ImportInvalid(
                f"unknown columns: {', '.join(unknown)}",
                details={"unknown": unknown, "columns": list(IMPORT_COLUMNS)},
            )
        if len(raw_rows) > settings.import_max_rows:
            raise ImportInvalid(f"at most {settings.import_max_rows} rows per import",
                                details={"rows": len(raw_rows)})  # fmt: skip
        rows: list[ImportRow] = []
        ready: list[tuple[int, LeadCreate, Contact]] = []
        emails: set[str] = set()
        phones: set[str] = set()
        for number, raw in enumerate(raw_rows, start=2):
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()
                   if isinstance(v, str)}  # fmt: skip
            try:
                data = LeadCreate(
                    full_name=row.get("full_name", ""), email=row.get("email") or None,
                    phone=row.get("phone") or None, city=row.get("city") or None,
                    company=row.get("company") or None,
                    investment_capacity=row.get("investment_capacity") or None,
                    source=row.get("source") or source, message=row.get("message") or None,
                )  # fmt: skip
                contact = _contact(data.full_name, data.email, data.phone)
                if (contact.email and contact.email in emails) or (
                        contact.phone_fp and contact.phone_fp in phones):  # fmt: skip
                    raise DuplicateLead("the same e-mail or phone is on an earlier row",
                                        details={"field": "email"})  # fmt: skip
            except AppError as exc:
                field = exc.details.get("field") if isinstance(exc.details, dict) else None
                rows.append(ImportRow(row=number, status="refused", code=exc.code,
                                      field=field, message=exc.message))  # fmt: skip
                continue
            except ValueError as exc:  # pydantic: a field out of shape
                first = exc.errors()[0] if hasattr(exc, "errors") else {"msg": str(exc)}
                where = ".".join(str(p) for p in first.get("loc", ()))
                rows.append(ImportRow(row=number, status="refused", code="validation_error",
                                      field=where or None,
                                      message=IMPORT_FIELD_SENTENCES.get(where) or (
                                          f"the {where} column is not valid: {first['msg']}"
                                          if where else str(first["msg"]))))  # fmt: skip
                continue
            emails.update([contact.email] if contact.email else [])
            phones.update([contact.phone_fp] if contact.phone_fp else [])
            ready.append((number, data, contact))
        taken_emails, taken_phones = await repository.taken_contacts(sorted(emails), sorted(phones))
        agents = [] if actor.role == "crm_agent" else await self._active_agents()
        rules = await self.score_rules()
        built: list[tuple[int, Lead, Activity]] = []
        for number, data, contact in ready:
            field = "email" if contact.email in taken_emails else \
                "phone" if contact.phone_fp in taken_phones else None  # fmt: skip
            if field:
                rows.append(ImportRow(row=number, status="refused", code=DuplicateLead.code,
                                      field=field,
                                      message=f"a lead with this {field} exists"))  # fmt: skip
                continue
            owner = actor.user_id if actor.role == "crm_agent" else await self._next_of(agents)
            lead, created = await self._build_lead(
                actor, contact, source=data.source, city=data.city, company=data.company,
                capacity=data.investment_capacity, message=data.message, owner_id=owner,
                rules=rules,
            )  # fmt: skip
            built.append((number, lead, created))
        # Stored in chunks, one transaction each (a commit per row would dominate the time); a
        # chunk that meets a concurrent duplicate is stored row by row instead.
        for at in range(0, len(built), IMPORT_CHUNK):
            chunk = built[at : at + IMPORT_CHUNK]
            try:
                await self._store_leads(actor, [(lead, created) for _, lead, created in chunk])
                rows.extend(ImportRow(row=n, status="created", lead_id=str(lead.id))
                            for n, lead, _ in chunk)  # fmt: skip
            except DuplicateKeyError:
                for n, lead, created in chunk:
                    try:
                        await self._store_leads(actor, [(lead, created)])
                    except DuplicateKeyError:
                        rows.append(
                            ImportRow(
                                row=n,
                                status="refused",
                                code=DuplicateLead.code,
                                message="a lead with this e-mail or phone exists",
                            )
                        )
                        continue
                    rows.append(ImportRow(row=n, status="created", lead_id=str(lead.id)))
        rows.sort(key=lambda r: r.row)
        made = sum(1 for r in rows if r.status == "created")
        return ImportReport(created=made, refused=len(rows) - made, rows=rows)

    # ---- leads: reading -----------------------------------------------------------------

    async def lead(self, actor: Actor, lead_id: str) -> Lead:
        """A lead in the actor's scope. Raises ``LeadNotFound`` (also outside the scope)."""
        found = await repository.lead(lead_id, actor.scope)
        if found is None:
            raise LeadNotFound("no such lead")
        return found

    def phone_of(self, lead: Lead | Client) -> str | None:
        """The record's phone number in the clear (detail views and exports)."""
        if not lead.phone_sealed:
            return None
        kind = "lead" if isinstance(lead, Lead) else "client"
        return privacy.unseal(lead.phone_sealed, f"{kind}:{lead.id}:phone")

    async def leads(
        self, actor: Actor, *, status: LeadStatus | None, source: LeadSource | None,
        owner_id: str | None, text: str | None, skip: int, limit: int, sort: str,
    ) -> tuple[list[Lead], int]:  # fmt: skip
        """Leads in scope, filtered; ``text`` matches names, e-mails and notes. Merged leads
        only when asked for by status."""
        query: Filter = {"status": status.value} if status else {"status": {"$ne": "merged"}}
        if source:
            query["source"] = source.value
        if owner_id:
            query["owner_id"] = owner_id
        if text and text.strip():
            query.update(repository.text_filter(text))
        order = {"created": "-created_at", "score": "-score", "activity": "-last_activity_at"}
        return await repository.leads(scoped(actor, query), sort=order[sort], skip=skip,
                                      limit=limit)  # fmt: skip

    async def near_duplicates(self, actor: Actor, lead: Lead) -> list[tuple[Lead, int, int]]:
        """Live leads in scope with a similar name and e-mail (rapidfuzz ``token_sort_ratio``
        of names, ``ratio`` of e-mails, both at or above the settings' thresholds), most
        similar first."""
        settings = crm_settings()
        if lead.erased_at is not None:
            return []
        tokens = name_tokens(lead.full_name)
        if not tokens:
            return []
        # Blocking: only leads sharing a name word are compared (an index lookup, not a scan).
        others = await repository.all_leads(scoped(actor, {
            "name_tokens": {"$in": tokens}, "_id": {"$ne": lead.id},
            "status": {"$nin": ["merged"]}, "erased_at": None}))  # fmt: skip
        name = lead.full_name.lower()
        out = []
        for other in others:
            name_ratio = round(fuzz.token_sort_ratio(name, other.full_name.lower()))
            if name_ratio < settings.near_name_ratio:
                continue
            if lead.email and other.email:
                email_ratio = round(fuzz.ratio(lead.email, other.email))
            else:
                email_ratio = 0
            if email_ratio >= settings.near_email_ratio:
                out.append((other, name_ratio, email_ratio))
        return sorted(out, key=lambda t: (-(t[1] + t[2]), str(t[0].id)))

    async def timeline(self, actor: Actor, lead_id: str, limit: int = 200) -> list[Activity]:
        """The lead's activities, newest first (those merged into it included)."""
        lead = await self.lead(actor, lead_id)
        return await repository.timeline([str(lead.id)], lead.client_id, limit)

    # ---- leads: changing ----------------------------------------------------------------

    async def _change(
        self, actor: Actor, lead_id: str, build: Any, *, activity: tuple[ActivityKind, str,
        Filter] | None, action: str, audit: Filter, change: BoardChange,
        new_owner: str | None = None,
    ) -> Lead:  # fmt: skip
        """Apply ``build(lead) -> (set, unset)`` to a lead in scope, guarded by its version, with
        an activity, an audit record and the boards' ``crm:lead`` ``change`` (of the owner
        before and ``new_owner`` after) in one transaction. Raises ``LeadNotFound`` and
        whatever ``build`` raises."""
        before = await self.lead(actor, lead_id)
        who = await board.audience([before.owner_id, new_owner])

        async def body(session: AsyncClientSession) -> Lead:
            lead = await repository.lead(lead_id, actor.scope, session)
            if lead is None:
                raise LeadNotFound("no such lead")
            if lead.erased_at is not None:
                raise ErasedSubject("this person's data was erased")
            changes, unset = build(lead)
            now = utcnow()
            changes = {**changes, "updated_at": now}
            if activity is not None:
                changes["last_activity_at"] = now
            assert lead.id is not None
            if not await repository.update_lead(lead.id, lead.version, changes, session, unset):
                raise LeadChanged("someone changed this lead meanwhile; look again and retry")
            if activity is not None:
                kind, text, data = activity
                await repository.insert_activity(Activity(
                    lead_id=lead_id, client_id=lead.client_id, kind=kind, text=text,
                    actor_id=actor.user_id, data=data, at=now), session)  # fmt: skip
            await _audit(session, actor.user_id, action, "lead", lead_id, **audit)
            updated = await repository.lead(lead_id, {}, session)
            assert updated is not None
            updated = await self._rescored_in(session, updated)
            await board.record(session, who, [updated], change)
            return updated

        return await run_in_transaction(body)

    async def do_update_lead(self, actor: Actor, lead_id: str, patch: LeadPatch) -> Lead:
        """Change contact and profile fields (re-normalised, re-checked for duplicates).

        Raises:
            LeadNotFound, InvalidContact, DuplicateLead, ErasedSubject.
        """
        current = await self.lead(actor, lead_id)
        fields = patch.model_dump(exclude_unset=True)
        contact = _contact(fields.get("full_name") or current.full_name,
                           fields.get("email", current.email), fields.get("phone"))  # fmt: skip
        changes: Filter = {
            "full_name": contact.full_name,
            "name_tokens": name_tokens(contact.full_name),
        }
        unset: list[str] = []
        if "email" in fields:
            if contact.email and contact.email != current.dedupe_email:
                await self._duplicate(actor, Contact(contact.full_name, contact.email, None))
            changes["email"] = contact.email
            if contact.email:
                changes["dedupe_email"] = contact.email
            else:
                unset.append("dedupe_email")
        if "phone" in fields:
            if contact.phone:
                if contact.phone_fp != current.dedupe_phone:
                    await self._duplicate(actor, Contact(contact.full_name, None, contact.phone))
                changes.update(
                    phone_sealed=privacy.seal(contact.phone, f"lead:{lead_id}:phone"),
                    phone_last4=contact.phone[-4:],
                    dedupe_phone=contact.phone_fp,
                )
            else:
                changes.update(phone_sealed=None, phone_last4=None)
                unset.append("dedupe_phone")
        for key in ("city", "company", "investment_capacity"):
            if key in fields:
                changes[key] = fields[key]
        changes["search_text"] = _search_text(
            contact.full_name, changes.get("email", current.email),
            current.search_text.split(" ", 1)[-1] if current.search_text else None,
        )  # fmt: skip
        try:
            return await self._change(
                actor, lead_id, lambda _lead: (changes, unset),
                activity=(ActivityKind.PROFILE, "", {"fields": sorted(fields)}),
                action="crm.lead.update", audit={"fields": sorted(fields)}, change="updated",
            )  # fmt: skip
        except DuplicateKeyError as exc:
            raise DuplicateLead("a lead with this e-mail or phone exists") from exc

    def check_transition(self, lead: Lead, to: LeadStatus, reason: str | None) -> None:
        """The lifecycle rule (documents.TRANSITIONS).

        Raises:
            ConvertRequired (``converted`` only through the conversion), IllegalTransition,
            LostReasonRequired.
        """
        if to not in TRANSITIONS[lead.status]:
            raise IllegalTransition(
                f"a {lead.status.value} lead cannot become {to.value}",
                details={"from": lead.status.value, "to": to.value,
                         "allowed": sorted(s.value for s in TRANSITIONS[lead.status]
                                           if s is not LeadStatus.CONVERTED)},
            )  # fmt: skip
        if to is LeadStatus.CONVERTED:
            raise ConvertRequired("convert the lead to make it a client")
        if to is LeadStatus.LOST and not (reason and reason.strip()):
            raise LostReasonRequired("say why the lead was lost", details={"field": "reason"})

    async def do_change_status(
        self, actor: Actor, lead_id: str, to: LeadStatus, reason: str | None,
        version: int | None = None,
    ) -> Lead:  # fmt: skip
        """Move a lead along its lifecycle (``check_transition``), with a status activity.
        ``version``: the lead's version the person saw — a lead changed since is not moved (a
        stale board must not undo another person's change).

        Raises:
            LeadNotFound, IllegalTransition, ConvertRequired, LostReasonRequired, LeadChanged.
        """

        def stale(lead: Lead) -> None:
            if version is not None and lead.version != version:
                raise LeadChanged(
                    "someone changed this lead since you saw it; look again and retry",
                    details={"version": lead.version, "status": lead.status.value},
                )

        def build(lead: Lead) -> tuple[Filter, list[str]]:
            stale(lead)
            self.check_transition(lead, to, reason)
            changes: Filter = {"status": to.value}
            if to in STAGES and STAGES.index(to) > STAGES.index(lead.stage):
                changes["stage"] = to.value
            if to is LeadStatus.LOST:
                changes.update(lost_reason=(reason or "").strip(), lost_at=utcnow())
            else:
                changes["lost_reason"] = None
            return changes, []

        current = await self.lead(actor, lead_id)
        stale(current)
        self.check_transition(current, to, reason)  # refuse before writing anything
        return await self._change(
            actor, lead_id, build,
            activity=(ActivityKind.STATUS, (reason or "").strip(),
                      {"from": current.status.value, "to": to.value}),
            action="crm.lead.status", audit={"from": current.status.value, "to": to.value},
            change="status",
        )  # fmt: skip

    async def do_assign(
        self, actor: Actor, lead_id: str, owner_id: str | None, round_robin: bool
    ) -> Lead:
        """Give a lead to a person (checked: ``check_assignee``) or the next agent in turn.

        Raises:
            LeadNotFound, AssigneeInvalid.
        """
        current = await self.lead(actor, lead_id)
        if round_robin:
            owner = await self._round_robin()
            if owner is None:
                raise AssigneeInvalid("no active agent takes leads in turn")
        elif owner_id:
            await self.check_assignee(actor, owner_id)
            owner = owner_id
        else:
            raise AssigneeInvalid("name an owner or ask for round robin",
                                  details={"field": "owner_id"})  # fmt: skip
        return await self._change(
            actor, lead_id, lambda _lead: ({"owner_id": owner}, []),
            activity=(ActivityKind.ASSIGNED, "", {"from": current.owner_id, "to": owner}),
            action="crm.lead.assign", audit={"from": current.owner_id, "to": owner},
            change="assigned", new_owner=owner,
        )  # fmt: skip

    async def _add_activity(
        self, actor_id: str | None, lead_id: str, kind: ActivityKind, text: str, data: Filter,
        client_id: str | None = None, client_change: ClientChange | None = None,
    ) -> Activity:  # fmt: skip
        """Store an activity on the lead's timeline (searchable, restarting its inactivity
        clock, rescored) in one transaction, shown live to everyone whose board or open lead
        page has the lead (``crm:lead`` ``activity``, or ``reminder`` for a follow-up) and,
        about a client, to their open client pages (``crm:client`` ``client_change``: by
        default ``reminder``, ``kyc`` or ``activity`` by the kind)."""
        now = utcnow()
        before = await repository.lead(lead_id, {})
        who = await board.audience([before.owner_id if before else None])
        change: BoardChange = "reminder" if kind is ActivityKind.REMINDER else "activity"
        about = await repository.client(client_id, {}) if client_id else None
        watchers = await board.audience([about.owner_id]) if about is not None else None
        told: ClientChange = client_change or (
            "reminder" if kind is ActivityKind.REMINDER
            else "kyc" if kind is ActivityKind.KYC
            else "invited" if kind is ActivityKind.INVITED
            else "activity")  # fmt: skip

        async def body(session: AsyncClientSession) -> Activity:
            activity = await repository.insert_activity(Activity(
                lead_id=lead_id, client_id=client_id, kind=kind, text=text, actor_id=actor_id,
                data=data, at=now), session)  # fmt: skip
            await repository.append_search_text(lead_id, text.lower(), session)
            await repository.touch_lead(lead_id, now, session)
            await _audit(session, actor_id, f"crm.activity.{kind.value}", "lead", lead_id)
            lead = await repository.lead(lead_id, {}, session)
            if lead is not None:
                lead = await self._rescored_in(session, lead)
                await board.record(session, who, [lead], change)
            if watchers is not None and client_id:
                await self._client_changed(session, watchers, client_id, told)
            return activity

        return await run_in_transaction(body)

    async def do_log_activity(
        self, actor: Actor, lead_id: str, kind: ActivityKind, text: str
    ) -> Activity:
        """Log a call, e-mail, meeting or note on a lead in scope (searchable at once).

        Raises:
            LeadNotFound, ErasedSubject.
        """
        lead = await self.lead(actor, lead_id)
        if lead.erased_at is not None:
            raise ErasedSubject("this person's data was erased")
        self.check_not_merged(lead)
        return await self._add_activity(actor.user_id, lead_id, kind, text.strip(), {},
                                        client_id=lead.client_id)  # fmt: skip

    def check_not_merged(self, lead: Lead) -> None:
        """New work goes to the lead a merged-away lead was merged into.

        Raises:
            LeadMergedAway (409, ``details.merged_into``).
        """
        if lead.status is LeadStatus.MERGED:
            raise LeadMergedAway("this lead was merged into another; work on that one",
                                 details={"merged_into": lead.merged_into})  # fmt: skip

    # ---- merge and undo -----------------------------------------------------------------

    async def do_merge(self, actor: Actor, winner_id: str, loser_id: str) -> LeadMerge:
        """Fold ``loser_id`` into ``winner_id``: every activity and reminder moves to the
        winner, the winner takes the loser's contact fields it lacks, the loser becomes
        ``merged`` (keeping its record; its e-mail and phone move from the unique keys to
        ``held_*``, still refused to new leads, which are pointed at the winner); audited;
        undoable.

        Raises:
            LeadNotFound (either outside scope), MergeRefused (itself; converted, merged or
            erased leads).
        """
        if winner_id == loser_id:
            raise MergeRefused("a lead cannot be merged with itself", details={"reason": "self"})
        winner = await self.lead(actor, winner_id)
        loser = await self.lead(actor, loser_id)
        for lead in (winner, loser):
            if lead.status in (LeadStatus.CONVERTED, LeadStatus.MERGED) or lead.erased_at:
                raise MergeRefused(f"a {lead.status.value} lead cannot be merged",
                                   details={"reason": lead.status.value,
                                            "lead_id": str(lead.id)})  # fmt: skip
        merge_id = PydanticObjectId()
        now = utcnow()
        who = await board.audience([winner.owner_id, loser.owner_id])

        async def body(session: AsyncClientSession) -> LeadMerge:
            assert winner.id is not None and loser.id is not None
            w_raw = await repository.raw_lead(winner.id, session)
            l_raw = await repository.raw_lead(loser.id, session)
            if w_raw is None or l_raw is None or w_raw.get("version") != winner.version or \
                    l_raw.get("version") != loser.version:  # fmt: skip
                raise LeadChanged("someone changed this lead meanwhile; look again and retry")
            filled: list[str] = []
            changes: Filter = {"updated_at": now, "last_activity_at": now}
            if not winner.email and loser.email:
                filled.append("email")
                changes.update(email=loser.email, dedupe_email=loser.email)
            if not winner.phone_sealed and loser.phone_sealed:
                filled.append("phone")
                assert loser.phone_sealed is not None
                phone = privacy.unseal(loser.phone_sealed, f"lead:{loser.id}:phone")
                changes.update(
                    phone_sealed=privacy.seal(phone, f"lead:{winner.id}:phone"),
                    phone_last4=loser.phone_last4,
                    dedupe_phone=loser.dedupe_phone,
                )
            for key in ("city", "company", "investment_capacity"):
                if getattr(winner, key) is None and getattr(loser, key) is not None:
                    filled.append(key)
                    changes[key] = getattr(loser, key)
            changes["search_text"] = f"{winner.search_text} {loser.search_text}".strip()
            # The loser releases its unique keys first, so the winner may take them.
            # It keeps them reserved (held_*), so nobody new takes them and undo stays possible.
            await repository.update_lead(loser.id, loser.version, {
                "status": LeadStatus.MERGED.value, "merged_into": winner_id, "updated_at": now,
                "score_parts.rescore_at": None,
                "held_email": loser.dedupe_email, "held_phone": loser.dedupe_phone,
            }, session, unset=["dedupe_email", "dedupe_phone"])  # fmt: skip
            await repository.update_lead(winner.id, winner.version, changes, session)
            merge = await repository.insert_merge(LeadMerge(
                id=merge_id, winner_id=winner_id, loser_id=loser_id, actor_id=actor.user_id,
                at=now, winner_before=w_raw, loser_before=l_raw, filled=filled,
            ), session)  # fmt: skip
            moved = await repository.move_activities(loser_id, winner_id, str(merge_id), session)
            await repository.move_reminders(loser_id, winner_id, str(merge_id), session)
            await repository.insert_activity(Activity(
                lead_id=winner_id, kind=ActivityKind.MERGED, actor_id=actor.user_id,
                data={"merge_id": str(merge_id), "other_id": loser_id, "filled": filled,
                      "moved": moved}, at=now), session)  # fmt: skip
            await _audit(session, actor.user_id, "crm.lead.merge", "lead", winner_id,
                         other=privacy.subject_hash(loser_id), merge_id=str(merge_id),
                         filled=filled, moved=moved)  # fmt: skip
            await board.record(session, who, await self._stored(session, loser_id, winner_id),
                               "merged")  # fmt: skip
            return merge

        merge = await run_in_transaction(body)
        refreshed = await repository.lead(winner_id, {})
        if refreshed is not None:
            await self._rescore(refreshed)
        return merge

    async def do_undo_merge(self, actor: Actor, merge_id: str) -> LeadMerge:
        """Reverse a merge: both leads as they were before it (the loser live again with its
        e-mail and phone), the moved activities and reminders back; the winner keeps a
        ``merge_undone`` activity. Audited.

        Raises:
            MergeNotFound (also when the winner is outside scope), UndoRefused (undone
            already; the winner changed since; a new lead took the loser's e-mail or phone).
        """
        merge = await repository.merge(merge_id)
        if merge is None or await repository.lead(merge.winner_id, actor.scope) is None:
            raise MergeNotFound("no such merge")
        if merge.undone_at is not None:
            raise UndoRefused("this merge was undone already", details={"reason": "undone"})
        now = utcnow()
        owners = [merge.winner_before.get("owner_id"), merge.loser_before.get("owner_id")]
        who = await board.audience(o if isinstance(o, str) else None for o in owners)

        async def body(session: AsyncClientSession) -> LeadMerge:
            assert merge.id is not None
            winner_key = repository.oid(merge.winner_id)
            loser_key = repository.oid(merge.loser_id)
            assert winner_key is not None and loser_key is not None
            current = await repository.raw_lead(winner_key, session)
            expected = int(merge.winner_before.get("version", 0)) + 1
            if current is None or int(current.get("version", -1)) != expected:
                again = await repository.merge(str(merge.id), session)
                if again is not None and again.undone_at is not None:  # a concurrent undo won
                    raise UndoRefused("this merge was undone already",
                                      details={"reason": "undone"})  # fmt: skip
                raise UndoRefused("the lead changed after the merge; undo it by hand",
                                  details={"reason": "changed"})  # fmt: skip
            if not await repository.mark_merge_undone(merge.id, actor.user_id, now, session):
                raise UndoRefused("this merge was undone already", details={"reason": "undone"})
            await repository.replace_lead_fields(
                winner_key,
                {**merge.winner_before, "updated_at": now, "last_activity_at": now},
                session,
            )
            await repository.replace_lead_fields(loser_key, {
                **merge.loser_before, "updated_at": now}, session)  # fmt: skip
            await repository.move_back_activities(str(merge.id), merge.loser_id, session)
            await repository.move_back_reminders(str(merge.id), merge.loser_id, session)
            await repository.insert_activity(Activity(
                lead_id=merge.winner_id, kind=ActivityKind.MERGE_UNDONE, actor_id=actor.user_id,
                data={"merge_id": str(merge.id), "other_id": merge.loser_id}, at=now,
            ), session)  # fmt: skip
            await _audit(
                session,
                actor.user_id,
                "crm.lead.merge_undo",
                "lead",
                merge.winner_id,
                other=privacy.subject_hash(merge.loser_id),
                merge_id=str(merge.id),
            )
            await board.record(session, who, await self._stored(
                session, merge.winner_id, merge.loser_id), "merge_undone")  # fmt: skip
            return merge

        try:
            await run_in_transaction(body)
        except DuplicateKeyError as exc:
            raise UndoRefused("another lead now holds this person's e-mail or phone",
                              details={"reason": "duplicate"}) from exc  # fmt: skip
        undone = await repository.merge(merge_id)
        assert undone is not None
        return undone

    async def merge_context(self, items: list[Activity]) -> tuple[dict[str, str], set[str]]:
        """For a timeline's merge entries: the other leads' names by id (as they are now) and
        the ids of the merges that were undone."""
        merge_kinds = (ActivityKind.MERGED, ActivityKind.MERGE_UNDONE)
        others = sorted({str(a.data.get("other_id")) for a in items
                         if a.kind in merge_kinds and a.data.get("other_id")})  # fmt: skip
        merges = sorted({str(a.data.get("merge_id")) for a in items
                         if a.kind is ActivityKind.MERGED and a.data.get("merge_id")})  # fmt: skip
        names = {str(lead.id): lead.full_name for lead in await repository.leads_by_ids(others)}
        undone = {str(m.id) for m in await repository.merges(merges) if m.undone_at is not None}
        return names, undone

    async def merge_of(self, actor: Actor, merge_id: str) -> LeadMerge:
        """A merge whose winner is in scope. Raises ``MergeNotFound``."""
        merge = await repository.merge(merge_id)
        if merge is None or await repository.lead(merge.winner_id, actor.scope) is None:
            raise MergeNotFound("no such merge")
        return merge

    async def _stored(self, session: AsyncClientSession, *lead_ids: str) -> list[Lead]:
        """The leads as the caller's transaction sees them now (for the boards' events)."""
        found = [await repository.lead(i, {}, session) for i in lead_ids]
        return [lead for lead in found if lead is not None]

    async def _client_changed(
        self, session: AsyncClientSession, who: board.Audience, client_id: str,
        change: ClientChange,
    ) -> None:  # fmt: skip
        """Tell open client pages (the board rooms of ``who``) that the client changed, inside
        the caller's transaction (``crm:client``)."""
        client = await repository.client(client_id, {}, session)
        if client is not None:
            await board.record_client(session, who, client, change)

    # ---- the live board -----------------------------------------------------------------

    async def staff_actor(self, user_id: str) -> Actor:
        """The actor of ``user_id`` by the roles their account holds now (a socket's roles
        may be older than its connection).

        Raises:
            Forbidden: the account holds no CRM role and is not an admin.
        """
        account = (await people.users([user_id])).get(user_id)
        roles = [r.value for r in account.roles] if account else []
        if not set(roles) & {r.value for r in people.STAFF_ROLES}:
            required = [r.value for r in people.STAFF_ROLES]
            raise Forbidden("the CRM board is for the operator's staff",
                            details={"required": required})  # fmt: skip
        return await self.actor(user_id, roles)

    def board_room(self, actor: Actor) -> str:
        """The actor's own board room: ``crm:board:all`` for admins, else
        ``crm:board:<user_id>`` (it carries the changes of their own and their team's leads)."""
        return board.ALL_ROOM if actor.owner_ids is None else board.viewer_room(actor.user_id)

    async def board_join(self, actor: Actor, after_seq: int | None) -> dict[str, Any]:
        """What a socket entering its board room gets: the room, its last ``seq``, and the
        events after ``after_seq`` (none when it is None), oldest first, at most
        ``BOARD_CATCH_UP_LIMIT`` (``complete`` false when more were missed: reload)."""
        room = self.board_room(actor)
        await events.ensure_room(room)
        head = await eventlog.head(room)
        missed: list[dict[str, Any]] = []
        if after_seq is not None and after_seq < head:
            logged = await eventlog.since(room, after_seq, BOARD_CATCH_UP_LIMIT)
            missed = [{"event": e.event, "data": e.data} for e in logged]
        complete = after_seq is None or after_seq + len(missed) >= head
        return {"room": room, "seq": head, "missed": missed, "complete": complete}

    # ---- conversion and clients ---------------------------------------------------------

    async def do_convert(
        self, actor: Actor, lead_id: str, data: ConvertRequest
    ) -> tuple[Lead, Client]:
        """Make a qualified lead a client in one transaction: the client points at the lead,
        whose activities form its history; the lead becomes ``converted``. With ``invite`` the
        client gets a platform account and a mail (an existing account is only asked to link:
        ``_invite``).

        Raises:
            LeadNotFound, IllegalTransition (not qualified), ErasedSubject.
        """
        settings = crm_settings()
        lead = await self.lead(actor, lead_id)
        if lead.erased_at is not None:
            raise ErasedSubject("this person's data was erased")
        if data.version is not None and data.version != lead.version:
            raise LeadChanged(
                "someone changed this lead since you saw it; look again and retry",
                details={"version": lead.version, "status": lead.status.value},
            )
        if LeadStatus.CONVERTED not in TRANSITIONS[lead.status]:
            raise IllegalTransition(
                f"only a qualified lead can be converted (this one is {lead.status.value})",
                details={"from": lead.status.value, "to": "converted"},
            )  # fmt: skip
        client_id = PydanticObjectId()
        now = utcnow()
        capacity = data.investment_capacity if data.investment_capacity is not None \
            else lead.investment_capacity  # fmt: skip
        phone = self.phone_of(lead)
        client = Client(
            id=client_id, lead_id=lead_id, full_name=lead.full_name, email=lead.email,
            phone_sealed=privacy.seal(phone, f"client:{client_id}:phone") if phone else None,
            phone_last4=lead.phone_last4, city=lead.city, company=lead.company,
            owner_id=lead.owner_id, investment_capacity=capacity,
            segment=segment_of(capacity, settings),
            investment_profile=data.investment_profile or InvestmentProfile(),
            source=lead.source, created_at=now, updated_at=now,
        )  # fmt: skip
        who = await board.audience([lead.owner_id])

        async def body(session: AsyncClientSession) -> tuple[Lead, Client]:
            assert lead.id is not None
            moved = await repository.update_lead(lead.id, lead.version, {
                "status": LeadStatus.CONVERTED.value, "stage": LeadStatus.CONVERTED.value,
                "client_id": str(client_id), "converted_at": now, "updated_at": now,
                "last_activity_at": now, "score_parts.rescore_at": None},
                session)  # fmt: skip
            if not moved:
                raise LeadChanged("someone changed this lead meanwhile; look again and retry")
            await repository.insert_client(client, session)
            await repository.insert_activity(Activity(
                lead_id=lead_id, client_id=str(client_id), kind=ActivityKind.CONVERTED,
                actor_id=actor.user_id, data={"client_id": str(client_id)}, at=now,
            ), session)  # fmt: skip
            await _audit(session, actor.user_id, "crm.lead.convert", "lead", lead_id,
                         client=privacy.subject_hash(str(client_id)))  # fmt: skip
            updated = await repository.lead(lead_id, {}, session)
            assert updated is not None
            await board.record(session, who, [updated], "converted")
            return updated, client

        converted, client = await run_in_transaction(body)
        if data.invite and client.email:
            client = await self._invite(actor, client)
        return converted, client

    async def _invite(self, actor: Actor, client: Client) -> Client:
        """Invite the client to the platform. A new address gets a new account, linked to the
        client at once, and a mail on how to sign in. An address that already has an account
        is never linked by the CRM alone: the client records a link request and the holder is
        mailed to accept or decline it, signed in (``do_answer_link``); until then the CRM
        sees nothing of that account."""
        assert client.email is not None and client.id is not None
        settings = get_settings()
        user, created = await people.provision_client(client.email, client.full_name)
        if not created:
            now = utcnow()
            await repository.update_client(client.id, {"link_user_id": str(user.id),
                                                       "link_requested_at": now})  # fmt: skip
            await self._add_activity(
                actor.user_id, client.lead_id, ActivityKind.INVITED,
                "Asked to link their existing platform account; waiting for their consent",
                {"pending": True}, client_id=str(client.id),
            )  # fmt: skip
            body = (f"Dear {user.full_name},\n\nThe Samooh team that looks after you as a "
                    "client asks to link your Samooh account with their client record, so "
                    "that your relationship manager can see your investments and KYC. Nothing "
                    "is shared unless you agree. Sign in and answer at "
                    f"{settings.public_url}/crm/consent\n\n— Samooh")  # fmt: skip
            await send_mail(settings, to=client.email, subject="Link your Samooh account?",
                            body=body)  # fmt: skip
            client.link_user_id, client.link_requested_at = str(user.id), now
            return client
        await repository.update_client(client.id, {"user_id": str(user.id),
                                                   "account_created": True})  # fmt: skip
        await self._add_activity(
            actor.user_id, client.lead_id, ActivityKind.INVITED,
            "Invited to the platform: a new account was made for them",
            {"user_id": str(user.id)}, client_id=str(client.id),
        )  # fmt: skip
        body = (f"Dear {client.full_name},\n\nYou now have an account on Samooh with this "
                f"address. Choose your password at {settings.public_url}/forgot and sign in.\n\n"
                "— Samooh")  # fmt: skip
        await send_mail(settings, to=client.email, subject="Your Samooh account", body=body)
        client.user_id, client.account_created = str(user.id), True
        return client

    async def link_requests(self, user_id: str) -> list[Client]:
        """The requests waiting for ``user_id`` (the signed-in person) to link their account
        with an operator's client record, oldest first."""
        found = await repository.all_clients({"link_user_id": user_id, "erased_at": None})
        return sorted(found, key=lambda c: c.link_requested_at or c.created_at)

    async def do_answer_link(self, user_id: str, client_id: str, accept: bool) -> Client:
        """The signed-in person accepts (their account becomes the client's: the CRM sees
        their investments and KYC from now on) or declines a link request addressed to them.
        On the client's timeline and audited.

        Raises:
            ClientNotFound: no request to this person waits on that client (answered
            already, or never theirs).
        """
        client = await repository.client(client_id, {"link_user_id": user_id, "erased_at": None})
        if client is None or client.id is None:
            raise ClientNotFound("no link request for you on this record")
        key = client.id
        watchers = await board.audience([client.owner_id])

        async def body(session: AsyncClientSession) -> None:
            if not await repository.answer_link(key, user_id, accept, session):
                raise ClientNotFound("no link request for you on this record")
            await repository.insert_activity(Activity(
                lead_id=client.lead_id, client_id=client_id, kind=ActivityKind.LINKED,
                text="They agreed to link their platform account" if accept
                else "They declined to link their platform account",
                actor_id=user_id, data={"accepted": accept}, at=utcnow()), session)  # fmt: skip
            await _audit(session, user_id, "crm.client.link_accept" if accept
                         else "crm.client.link_decline", "client", client_id)  # fmt: skip
            await self._client_changed(session, watchers, client_id, "linked")

        await run_in_transaction(body)
        answered = await repository.client(client_id, {})
        assert answered is not None
        return answered

    async def do_create_client(
        self, actor: Actor, data: ClientCreate
    ) -> tuple[Client, list[tuple[Lead, int, int]]]:
        """Enter a client directly. The person gets a lead record too — converted at once, in
        the same transaction as the client — which holds their unique e-mail and phone (so
        the exact-duplicate rule of leads holds for clients as well) and their history. The
        owner is the given one (checked), else the entering agent, else the next agent in
        turn. Returns the client and the near duplicates of its lead (similar name and e-mail).

        Raises:
            InvalidContact, DuplicateLead (409, the same e-mail or phone; ``details.lead_id``
            when the caller may see it), AssigneeInvalid.
        """
        settings = crm_settings()
        contact = _contact(data.full_name, data.email, data.phone)
        if data.owner_id:
            await self.check_assignee(actor, data.owner_id)
            owner: str | None = data.owner_id
        elif actor.role == "crm_agent":
            owner = actor.user_id
        else:
            owner = await self._round_robin()
        await self._duplicate(actor, contact)
        lead, created = await self._build_lead(
            actor, contact, source=data.source, city=data.city, company=data.company,
            capacity=data.investment_capacity, message=data.message, owner_id=owner,
        )  # fmt: skip
        assert lead.id is not None
        client_id = PydanticObjectId()
        now = lead.created_at
        lead.status = lead.stage = LeadStatus.CONVERTED
        lead.score_parts.rescore_at = None  # closed: its score is not swept
        lead.client_id, lead.converted_at = str(client_id), now
        address = (data.address or "").strip()
        client = Client(
            id=client_id, lead_id=str(lead.id), full_name=contact.full_name, email=contact.email,
            phone_sealed=privacy.seal(contact.phone, f"client:{client_id}:phone")
            if contact.phone else None,
            phone_last4=contact.phone[-4:] if contact.phone else None,
            address_sealed=privacy.seal(address, f"client:{client_id}:address")
            if address else None,
            city=data.city, company=data.company, owner_id=owner,
            investment_capacity=data.investment_capacity,
            segment=segment_of(data.investment_capacity, settings),
            investment_profile=data.investment_profile or InvestmentProfile(),
            preferences=data.preferences or ContactPreferences(), source=data.source,
            created_at=now, updated_at=now,
        )  # fmt: skip
        became = Activity(
            lead_id=str(lead.id), client_id=str(client_id), kind=ActivityKind.CONVERTED,
            actor_id=actor.user_id, data={"client_id": str(client_id), "direct": True}, at=now,
        )  # fmt: skip
        created.client_id = str(client_id)
        who = await board.audience([owner])

        async def body(session: AsyncClientSession) -> None:
            await repository.insert_leads([lead], session)
            await repository.insert_activities([created, became], session)
            await repository.insert_client(client, session)
            await _audit(session, actor.user_id, "crm.client.create", "client", str(client_id),
                         lead=privacy.subject_hash(str(lead.id)), owner_id=owner,
                         source=data.source.value)  # fmt: skip
            await board.record(session, who, [lead], "created")

        try:
            await run_in_transaction(body)
        except DuplicateKeyError as exc:  # a concurrent entry of the same person won the race
            raise DuplicateLead("a lead with this e-mail or phone exists",
                                details={"field": "email" if "email" in str(exc) else "phone"}
                                ) from exc  # fmt: skip
        if data.invite and client.email:
            client = await self._invite(actor, client)
        return client, await self.near_duplicates(actor, lead)

    async def client(self, actor: Actor, client_id: str) -> Client:
        """A client in scope. Raises ``ClientNotFound``."""
        found = await repository.client(client_id, actor.scope)
        if found is None:
            raise ClientNotFound("no such client")
        return found

    def address_of(self, client: Client) -> str | None:
        """The client's address in the clear."""
        if not client.address_sealed:
            return None
        return privacy.unseal(client.address_sealed, f"client:{client.id}:address")

    async def clients(
        self, actor: Actor, *, segment: Segment | None, status: ClientStatus | None,
        text: str | None, skip: int, limit: int,
    ) -> tuple[list[Client], int]:  # fmt: skip
        """Clients in scope, filtered (``text``: name or e-mail, literal, case-insensitive)."""
        query: Filter = {}
        if segment:
            query["segment"] = segment.value
        if status:
            query["status"] = status.value
        if text and text.strip():
            pattern = {"$regex": _literal(text), "$options": "i"}
            query["$or"] = [{"full_name": pattern}, {"email": pattern}]
        return await repository.clients(scoped(actor, query), skip=skip, limit=limit)

    async def client_timeline(self, actor: Actor, client_id: str) -> list[Activity]:
        """The client's history: the lead's activities and the client's own, newest first."""
        client = await self.client(actor, client_id)
        return await repository.timeline([client.lead_id], str(client.id), 200)

    async def do_update_client(self, actor: Actor, client_id: str, patch: ClientPatch) -> Client:
        """Change a client's profile, contact, status, manager, capacity (re-segmented),
        investment profile or preferences. Audited with the changed field names only.

        A new e-mail or phone is checked for exact duplicates like a lead's (the client's lead
        record holds the unique keys and is changed with it).

        Raises:
            ClientNotFound, InvalidContact, AssigneeInvalid, ErasedSubject, DuplicateLead,
            LeadChanged.
        """
        client = await self.client(actor, client_id)
        if client.erased_at is not None:
            raise ErasedSubject("this person's data was erased")
        fields = patch.model_dump(exclude_unset=True)
        changes: Filter = {}
        if "full_name" in fields or "email" in fields or "phone" in fields:
            contact = _contact(
                fields.get("full_name") or client.full_name,
                fields.get("email", client.email),
                fields.get("phone"),
            )
            changes.update(full_name=contact.full_name, email=contact.email)
            if "phone" in fields:
                changes.update(
                    phone_sealed=privacy.seal(contact.phone, f"client:{client_id}:phone")
                    if contact.phone else None,
                    phone_last4=contact.phone[-4:] if contact.phone else None,
                )  # fmt: skip
        if "address" in fields:
            address = (fields["address"] or "").strip()
            changes["address_sealed"] = privacy.seal(address, f"client:{client_id}:address") \
                if address else None  # fmt: skip
        if fields.get("owner_id"):
            await self.check_assignee(actor, fields["owner_id"])
            changes["owner_id"] = fields["owner_id"]
        for key in ("city", "company", "status"):
            if key in fields and fields[key] is not None:
                changes[key] = fields[key]
        if "investment_capacity" in fields:
            changes["investment_capacity"] = fields["investment_capacity"]
            changes["segment"] = segment_of(fields["investment_capacity"], crm_settings()).value
        for key in ("investment_profile", "preferences"):
            if fields.get(key) is not None:
                changes[key] = fields[key]
        wanted = (fields.get("investment_profile") or {}).get("risk_tolerance")
        if wanted and wanted != client.investment_profile.risk_tolerance:
            await self.check_risk_editable(client)
        changes["updated_at"] = utcnow()
        assert client.id is not None
        key_id = client.id
        lead, lead_changes, lead_unset = await self._client_contact_keys(actor, client, fields)
        watchers = await board.audience([client.owner_id, changes.get("owner_id")])

        async def body(session: AsyncClientSession) -> None:
            if lead is not None and lead_changes:
                assert lead.id is not None
                if not await repository.update_lead(lead.id, lead.version, lead_changes, session,
                                                    lead_unset):  # fmt: skip
                    raise LeadChanged("someone changed this person meanwhile; look again")
            await repository.update_client(key_id, changes, session)
            await repository.insert_activity(Activity(
                lead_id=client.lead_id, client_id=client_id, kind=ActivityKind.PROFILE,
                actor_id=actor.user_id, data={"fields": sorted(fields)}), session)  # fmt: skip
            await _audit(session, actor.user_id, "crm.client.update", "client", client_id,
                         fields=sorted(fields))  # fmt: skip
            await self._client_changed(session, watchers, client_id, "updated")

        try:
            await run_in_transaction(body)
        except DuplicateKeyError as exc:  # a concurrent entry took the address or number
            raise DuplicateLead("a lead with this e-mail or phone exists",
                                details={"field": "email" if "email" in str(exc) else "phone"}
                                ) from exc  # fmt: skip
        return await self.client(Actor(actor.user_id, "admin", None, True), client_id)

    async def _client_contact_keys(
        self, actor: Actor, client: Client, fields: Filter
    ) -> tuple[Lead | None, Filter, list[str]]:
        """The changes to the client's lead record — which holds the person's unique e-mail
        and phone keys — for a client's new e-mail or phone, after the exact-duplicate check
        against every other lead and client. Raises ``InvalidContact``, ``DuplicateLead``."""
        if "email" not in fields and "phone" not in fields:
            return None, {}, []
        lead = await repository.lead(client.lead_id, {})
        contact = _contact(fields.get("full_name") or client.full_name,
                           fields.get("email", client.email), fields.get("phone"))  # fmt: skip
        changes: Filter = {}
        unset: list[str] = []
        if "email" in fields:
            if contact.email and (lead is None or contact.email != lead.dedupe_email):
                await self._duplicate(actor, Contact(contact.full_name, contact.email, None))
            changes["email"] = contact.email
            if contact.email:
                changes["dedupe_email"] = contact.email
            else:
                unset.append("dedupe_email")
        if "phone" in fields:
            if contact.phone and (lead is None or contact.phone_fp != lead.dedupe_phone):
                await self._duplicate(actor, Contact(contact.full_name, None, contact.phone))
            if contact.phone and lead is not None:
                changes.update(
                    phone_sealed=privacy.seal(contact.phone, f"lead:{lead.id}:phone"),
                    phone_last4=contact.phone[-4:], dedupe_phone=contact.phone_fp,
                )  # fmt: skip
            elif not contact.phone:
                changes.update(phone_sealed=None, phone_last4=None)
                unset.append("dedupe_phone")
        return lead, changes, unset

    async def check_risk_editable(self, client: Client) -> None:
        """Staff may set a client's risk tolerance only while they have not taken the advisory
        questionnaire (its result is their risk profile: SEBI's suitability rule).

        Raises:
            RiskFromQuestionnaire (409, ``details.profile``).
        """
        if not client.user_id:
            return
        try:
            taken = await advisory_service.current_profile(client.user_id)
        except NoRiskProfile:
            return
        raise RiskFromQuestionnaire(
            f"the client's questionnaire says {taken.profile}; that is their risk profile",
            details={"profile": taken.profile, "field": "investment_profile.risk_tolerance"},
        )

    async def do_log_client_activity(
        self, actor: Actor, client_id: str, kind: ActivityKind, text: str
    ) -> Activity:
        """A call, e-mail, meeting or note on a client's timeline. Raises ``ClientNotFound``."""
        client = await self.client(actor, client_id)
        if client.erased_at is not None:
            raise ErasedSubject("this person's data was erased")
        return await self._add_activity(actor.user_id, client.lead_id, kind, text.strip(), {},
                                        client_id=client_id)  # fmt: skip

    async def portfolio_view(self, actor: Actor, client_id: str, redis: Redis) -> tuple[
        Client, list[portfolio.Investment], list[portfolio.PersonalAccount],
        list[portfolio.Transaction], portfolio.Totals,
    ]:  # fmt: skip
        """The client's club stakes, personal advisory accounts, contributions and totals —
        per currency and in INR at today's ECB rates (nothing without a linked platform
        account). Raises ``ClientNotFound``."""
        client, stakes, history = await self.portfolio(actor, client_id)
        accounts = await portfolio.personal_accounts_of(client.user_id, redis) \
            if client.user_id else []  # fmt: skip
        sums = await portfolio.totals(stakes, accounts, "INR", today_utc())
        return client, stakes, accounts, history, sums

    async def portfolio(
        self, actor: Actor, client_id: str
    ) -> tuple[Client, list[portfolio.Investment], list[portfolio.Transaction]]:
        """The client, their club investments and their contributions, newest first (none when
        they have no platform account). Raises ``ClientNotFound``."""
        client = await self.client(actor, client_id)
        if not client.user_id:
            return client, [], []
        return (client, await portfolio.investments_of(client.user_id),
                await portfolio.transactions_of(client.user_id))  # fmt: skip

    async def kyc_status(self, client: Client) -> str:
        """The client's derived KYC status (``not_started`` without a platform account)."""
        if not client.user_id:
            return "not_started"
        return (await kyc_service.summary(client.user_id)).status.value

    async def client_kyc(self, actor: Actor, client_id: str) -> tuple[Client, KycSummary | None]:
        """The client and their KYC as the KYC service derives it (None without a platform
        account). Raises ``ClientNotFound``."""
        client = await self.client(actor, client_id)
        if not client.user_id:
            return client, None
        return client, await kyc_service.summary(client.user_id)

    async def do_upload_client_kyc(
        self, actor: Actor, form: ClientKycUpload, data: bytes, filename: str | None
    ) -> KycDocument:
        """A KYC document of a client in scope, scanned and uploaded by staff: the details
        are checked first (the KYC rules), then the file (size, virus scan, type by its
        content: app/files), stored as the client's own ``kyc_document`` and submitted through
        the KYC service, where it waits for review like any other (pending → verified |
        rejected). The client's timeline records who uploaded it.

        Raises:
            ClientNotFound, ErasedSubject, ClientNotMember (no platform account: invite
            first), the KYC service's InvalidDocument, DocumentExpired, DocumentPending,
            NumberInUse, and the files service's EmptyFile, FileTooLarge, MalwareDetected,
            UnsupportedFileType, ScannerUnavailable.
        """
        client = await self.client(actor, form.client_id)
        if client.erased_at is not None:
            raise ErasedSubject("this person's data was erased")
        if not client.user_id:
            raise ClientNotMember("invite the client to the platform first: KYC documents "
                                  "are held on their account")  # fmt: skip
        holder = client.user_id
        submit = DocumentSubmit(
            kind=form.kind, file_id="pending-upload", number=form.number,
            proof_type=form.proof_type, issued_on=form.issued_on, expires_on=form.expires_on,
        )  # fmt: skip
        kyc_service.check_details(holder, submit, today_utc())  # bad details store nothing
        waiting = (await kyc_service.summary(holder)).documents
        if any(d.kind is form.kind and d.status is DocumentStatus.PENDING for d in waiting):
            raise DocumentPending("a document of this kind is already waiting for review",
                                  details={"kind": form.kind.value})  # fmt: skip
        record = await files_service.do_upload(
            holder, data=data, filename=filename, purpose=FilePurpose.KYC_DOCUMENT
        )
        doc = await kyc_service.do_submit(
            holder, submit.model_copy(update={"file_id": str(record.id)}), actor_id=actor.user_id
        )
        await self._add_activity(
            actor.user_id, client.lead_id, ActivityKind.KYC,
            f"KYC {form.kind.value.replace('_', ' ')} uploaded for review",
            {"document_id": str(doc.id), "file_id": str(record.id)}, client_id=str(client.id),
        )  # fmt: skip
        return doc

    async def do_invite_client(self, actor: Actor, client_id: str) -> Client:
        """Give a client in scope a platform account and mail them how to sign in; when their
        e-mail already has an account, ask its holder to link it instead (``_invite``).

        Raises:
            ClientNotFound, ErasedSubject, InvalidContact (no e-mail address on file).
        """
        client = await self.client(actor, client_id)
        if client.erased_at is not None:
            raise ErasedSubject("this person's data was erased")
        if client.user_id or client.link_user_id:
            return client
        if not client.email:
            raise InvalidContact("the client needs an e-mail address to be invited",
                                 details={"field": "email"})  # fmt: skip
        return await self._invite(actor, client)

    async def advisory(
        self, actor: Actor, client_id: str
    ) -> tuple[Client, RiskAssessment | None, list[AdvisoryAccount]]:
        """The client's advisory profile, asked of the advisory service: their newest risk
        questionnaire result (None when not taken) and the advisory portfolios they hold
        (personal accounts and their clubs'); nothing without a platform account. Raises
        ``ClientNotFound``."""
        client = await self.client(actor, client_id)
        if not client.user_id:
            return client, None, []
        try:
            profile: RiskAssessment | None = await advisory_service.current_profile(client.user_id)
        except NoRiskProfile:
            profile = None
        return client, profile, await advisory_service.accounts(client.user_id)

    async def client_of_user(self, actor: Actor, user_id: str) -> Client:
        """The client in scope whose platform account is ``user_id`` — the way back from a
        person's advisory profile (or any place that names the account) to their CRM record.
        Raises ``ClientNotFound`` (none, or outside scope)."""
        found = await repository.all_clients(scoped(actor, {"user_id": user_id,
                                                            "erased_at": None}))  # fmt: skip
        if not found:
            raise ClientNotFound("no client in your book has this account")
        return sorted(found, key=lambda c: c.created_at)[0]

    async def kyc_queue(self, actor: Actor) -> list[tuple[Client, Any]]:
        """Pending KYC documents of the clients in scope, oldest first."""
        found = await repository.all_clients(scoped(actor, {"user_id": {"$type": "string"}}))
        items: list[tuple[Client, Any]] = []
        for client in found:
            assert client.user_id is not None
            summary = await kyc_service.summary(client.user_id)
            items.extend((client, d) for d in summary.documents
                         if d.status is DocumentStatus.PENDING)  # fmt: skip
        return sorted(items, key=lambda t: t[1].submitted_at)

    async def kyc_expiring(
        self, actor: Actor, today: dt.date | None = None
    ) -> tuple[int, list[tuple[Client, Any, int]]]:
        """The verified KYC documents of the clients in scope that lapse within the settings'
        ``kyc_expiring_days`` (expired ones are not verified any more), soonest first, with
        the days left."""
        days = crm_settings().kyc_expiring_days
        today = today or today_utc()
        found = await repository.all_clients(scoped(actor, {"user_id": {"$type": "string"},
                                                            "erased_at": None}))  # fmt: skip
        items: list[tuple[Client, Any, int]] = []
        for client in found:
            assert client.user_id is not None
            for doc in (await kyc_service.summary(client.user_id)).documents:
                if doc.status is not DocumentStatus.VERIFIED or not doc.expires_on:
                    continue
                left = (dt.date.fromisoformat(doc.expires_on) - today).days
                if 0 <= left <= days:
                    items.append((client, doc, left))
        return days, sorted(items, key=lambda t: (t[2], t[0].full_name))

    async def kyc_document_file(self, actor: Actor, doc_id: str) -> tuple[KycDocument, StoredFile]:
        """A KYC document of a client in scope and its scan, for staff to open (the review
        compares the scan with the details). Each opening is on the CRM audit chain.

        Raises:
            ClientNotFound (the holder is not a client in scope), KycDocumentNotFound,
            FileNotFound (the scan is gone).
        """
        doc = await kyc_service.document(doc_id)
        holders = await repository.all_clients(scoped(actor, {"user_id": doc.user_id}))
        if not holders:
            raise ClientNotFound("no client in your book holds this document")
        record = await files_service.get(doc.file_id)
        if record is None:
            raise FileNotFound("the scan of this document is gone")
        await audit_service.do_append(
            chain=AUDIT_CHAIN, actor_id=actor.user_id, action="crm.kyc.view",
            target_type="client", target_id=privacy.subject_hash(str(holders[0].id)),
            details={"document_id": doc_id},
        )  # fmt: skip
        return doc, record

    async def kyc_files(self, docs: list[Any]) -> dict[str, StoredFile]:
        """The scans of ``docs`` by file id (those that exist)."""
        found = {}
        for doc in docs:
            record = await files_service.get(doc.file_id)
            if record is not None:
                found[doc.file_id] = record
        return found

    async def do_kyc_decide(
        self, actor: Actor, doc_id: str, verify: bool, reason: str | None
    ) -> Any:
        """Verify or reject a pending KYC document of a client in scope, through the KYC
        service (its rules, audit and notice to the holder).

        Raises:
            KycReasonRequired (a rejection without a reason: the client is told why),
            ClientNotFound (the document's holder is not a client in scope), and the KYC
            service's errors.
        """
        if not verify and not (reason and reason.strip()):
            raise KycReasonRequired("say why the document is rejected: the client is told",
                                    details={"field": "reason"})  # fmt: skip
        doc = await kyc_service.document(doc_id)
        holders = await repository.all_clients(scoped(actor, {"user_id": doc.user_id}))
        if not holders:
            raise ClientNotFound("no client in your book holds this document")
        decided, _status = await kyc_service.do_decide(actor.user_id, doc_id, verify=verify,
                                                       reason=reason)  # fmt: skip
        await self._add_activity(
            actor.user_id,
            holders[0].lead_id,
            ActivityKind.NOTE,
            f"KYC {decided.kind.value} {'verified' if verify else 'rejected'}",
            {"document_id": doc_id},
            client_id=str(holders[0].id),
            client_change="kyc",
        )
        return decided

    async def do_kyc_expiry_alerts(self, today: dt.date | None = None) -> int:
        """Tell each client's manager, once per document and threshold (the KYC alert days),
        that a verified document of theirs expires soon. Returns how many were sent."""
        today = today or dt.datetime.now(dt.UTC).date()
        thresholds = get_settings().kyc_expiry_alert_days
        sent = 0
        for client in await repository.all_clients(
            {"user_id": {"$type": "string"}, "owner_id": {"$type": "string"}}
        ):
            assert client.user_id is not None and client.owner_id is not None
            for doc in (await kyc_service.summary(client.user_id)).documents:
                if doc.status is not DocumentStatus.VERIFIED or not doc.expires_on:
                    continue
                days = (dt.date.fromisoformat(doc.expires_on) - today).days
                due = [t for t in thresholds if 0 <= days <= t]
                if not due:
                    continue
                alert = CrmKycAlert(client_id=str(client.id), document_id=str(doc.id),
                                    days_before=min(due))  # fmt: skip
                if not await repository.record_kyc_alert(alert):
                    continue
                await notification_service.do_notify([Draft(
                    user_id=client.owner_id, kind=NotificationKind.CRM_KYC_EXPIRY,
                    title=f"KYC expiring: {client.full_name}",
                    body=f"{client.full_name}'s {doc.kind.value} expires on {doc.expires_on}.",
                    ref_type="crm_client", ref_id=str(client.id),
                    dedupe_key=f"crm-kyc:{doc.id}:{min(due)}",
                )])  # fmt: skip
                sent += 1
        return sent

    # ---- reminders ----------------------------------------------------------------------

    async def do_create_reminder(self, actor: Actor, data: ReminderCreate) -> Reminder:
        """A follow-up about a lead or client in scope, for its owner unless named.

        Raises:
            LeadNotFound, ClientNotFound, LeadMergedAway, ReminderInPast, AssigneeInvalid
            (``details.field == "assignee_id"``), ValidationFailed (neither or both of a lead
            and a client).
        """
        if bool(data.lead_id) == bool(data.client_id):
            raise ValidationFailed("give a lead or a client (one of them)",
                                   details={"field": "lead_id"})  # fmt: skip
        if data.lead_id:
            about = await self.lead(actor, data.lead_id)
            self.check_not_merged(about)
            owner = about.owner_id
        else:
            assert data.client_id is not None
            owner = (await self.client(actor, data.client_id)).owner_id
        assignee = data.assignee_id or owner or actor.user_id
        if assignee != actor.user_id:
            try:
                await self.check_assignee(actor, assignee)
            except AssigneeInvalid as exc:
                raise AssigneeInvalid(exc.message, details={"field": "assignee_id"}) from exc
        due = data.due_at if data.due_at.tzinfo else data.due_at.replace(tzinfo=dt.UTC)
        due = due.astimezone(dt.UTC)
        if due < utcnow() - REMINDER_PAST_GRACE:
            raise ReminderInPast("the follow-up's time has passed; pick a time from now on",
                                 details={"field": "due_at"})  # fmt: skip
        due = due.replace(microsecond=due.microsecond // 1000 * 1000)
        reminder = await repository.insert_reminder(Reminder(
            lead_id=data.lead_id, client_id=data.client_id, assignee_id=assignee, due_at=due,
            text=data.text.strip(), created_by=actor.user_id,
        ))  # fmt: skip
        lead_id = data.lead_id or (await self.client(actor, data.client_id or "")).lead_id
        await self._add_activity(actor.user_id, lead_id, ActivityKind.REMINDER, data.text.strip(),
                                 {"reminder_id": str(reminder.id), "due_at": iso(due)},
                                 client_id=data.client_id)  # fmt: skip
        return reminder

    async def reminders(self, actor: Actor, which: str, now: dt.datetime | None = None,
                        tz: str | None = None) -> list[Reminder]:  # fmt: skip
        """The actor's own reminders: ``today`` (open and due by the end of today in the time
        zone ``tz`` — an IANA name, UTC when None —, overdue included), ``open`` (pending or
        sent), ``all``."""
        now = now or utcnow()
        query: Filter = {"assignee_id": actor.user_id}
        if which in ("today", "open"):
            query["status"] = {"$in": [ReminderStatus.PENDING.value, ReminderStatus.SENT.value]}
        if which == "today":
            zone = ZoneInfo(tz) if tz else dt.UTC
            local = now.astimezone(zone)
            midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(),
                                           zone)  # fmt: skip
            query["due_at"] = {"$lt": midnight.astimezone(dt.UTC)}
        return await repository.reminders_of(query)

    async def do_finish_reminder(self, actor: Actor, reminder_id: str, done: bool) -> Reminder:
        """Mark the actor's reminder done (or cancel it).

        Raises:
            ReminderNotFound (not theirs), ReminderState (done or cancelled already).
        """
        found = await repository.reminder(reminder_id)
        if found is None or (found.assignee_id != actor.user_id and actor.owner_ids is not None
                             and found.assignee_id not in actor.owner_ids):  # fmt: skip
            raise ReminderNotFound("no such reminder")
        assert found.id is not None
        status = ReminderStatus.DONE if done else ReminderStatus.CANCELLED
        if not await repository.finish_reminder(found.id, status, utcnow()):
            raise ReminderState(f"the reminder is {found.status.value} already")
        again = await repository.reminder(reminder_id)
        assert again is not None
        return again

    async def do_fire_due_reminders(self, now: dt.datetime | None = None, limit: int = 100) -> int:
        """Deliver every pending reminder due by ``now``: in one transaction the reminder moves
        pending → sent (guarded: only one sweep wins, across workers and restarts), the
        assignee's notification is stored (e-mailed by the outbox worker, once), and
        ``crm:reminder`` is logged in the assignee's board rooms (sent after the commit).
        Returns how many fired."""
        now = now or utcnow()
        fired = 0
        for reminder in await repository.due_reminders(now, limit):
            if await self._fire(reminder, now):
                fired += 1
        return fired

    async def _fire(self, reminder: Reminder, now: dt.datetime) -> bool:
        assert reminder.id is not None
        subject = "a follow-up"
        ref_type, ref_id = ("crm_lead", reminder.lead_id) if reminder.lead_id else \
            ("crm_client", reminder.client_id)  # fmt: skip
        if reminder.lead_id:
            found = await repository.lead(reminder.lead_id, {})
            subject = found.full_name if found else subject
        elif reminder.client_id:
            owner = await repository.client(reminder.client_id, {})
            subject = owner.full_name if owner else subject
        await notification_service.prepare([reminder.assignee_id])
        who = await board.audience([reminder.assignee_id])
        reminder_key = reminder.id
        page = f"/crm/leads/{ref_id}" if reminder.lead_id else f"/crm/clients/{ref_id}"
        where = f"Open it: {get_settings().public_url}{page}"

        async def body(session: AsyncClientSession) -> bool:
            if not await repository.claim_reminder(reminder_key, now, session):
                return False
            stored = await notification_service.do_store(session, [Draft(
                user_id=reminder.assignee_id, kind=NotificationKind.CRM_REMINDER,
                title=f"Follow up: {subject}", body=f"{reminder.text}\n\n{where}",
                ref_type=ref_type, ref_id=ref_id, dedupe_key=f"crm-reminder:{reminder.id}",
            )])  # fmt: skip
            sent = reminder.model_copy(update={"status": ReminderStatus.SENT, "sent_at": now})
            # Logged in the assignee's board rooms: a screen away when it fell due gets it on
            # its next crm:join (after_seq), like every other change it shows.
            for room in who.rooms:
                await events.room_event(session, room, REMINDER_EVENT, ReminderDueEvent,
                                        reminder=ReminderOut.of(sent),
                                        subject=subject)  # fmt: skip

            async def deliver() -> None:
                await notification_service.deliver(stored)

            await events.after_commit(deliver)
            return True

        return await run_in_transaction(body)

    # ---- scores -------------------------------------------------------------------------

    async def score_rules(self) -> CrmScoreRules:
        """The score rules in force: those an admin set (``do_set_score_rules``), else the
        settings' defaults as version 0."""
        stored = await repository.score_rules()
        if stored is not None:
            return stored
        settings = crm_settings()
        return CrmScoreRules(
            id=repository.SCORE_RULES_ID, source_points=dict(settings.score_source_points),
            engagement_points=settings.score_engagement_points,
            engagement_cap=settings.score_engagement_cap,
            engagement_days=settings.score_engagement_days,
            completeness_points=dict(settings.score_completeness_points),
            half_life_days=settings.score_half_life_days, version=0,
        )  # fmt: skip

    def check_score_rules(self, data: ScoreRulesPut) -> list[RuleProblem]:
        """Every problem of proposed score rules, each said as a sentence with the field it is
        about (empty: the rules may be stored). Sources must be lead sources and fields
        profile fields, each at most once; points are whole numbers 0–100; the engagement
        window is 1–365 days; the half-life more than 0 and at most 3650 days."""
        problems: list[RuleProblem] = []

        def say(where: str, message: str) -> None:
            problems.append(RuleProblem(field=where, message=message))

        def points(where: str, what: str, value: int) -> None:
            if not 0 <= value <= 100:
                say(where, f"{what} must get a whole number of points from 0 to 100, not {value}.")

        def rows(name: str, items: list[Any], allowed: list[str], noun: str) -> None:
            seen: set[str] = set()
            for i, row in enumerate(items):
                where = f"{name}.{i}"
                shown = row.key.replace("_", " ")
                if row.key not in allowed:
                    listed = ", ".join(allowed).replace("_", " ")
                    say(where, f"Pick a {noun} for row {i + 1}: one of {listed}.")
                    continue
                if row.key in seen:
                    say(where, f"The {noun} {shown} is listed twice: give each one weight.")
                seen.add(row.key)
                points(where, f"The {noun} {shown}", row.points)

        rows("source_points", data.source_points, [s.value for s in LeadSource], "source")
        rows("completeness_points", data.completeness_points, list(SCORE_FIELDS), "field")
        points("engagement_points", "Each engaging activity", data.engagement_points)
        points("engagement_cap", "The engagement cap", data.engagement_cap)
        if not 1 <= data.engagement_days <= 365:
            say(
                "engagement_days",
                f"Activities count for 1 to 365 days, not {data.engagement_days}.",
            )
        if not 0 < data.half_life_days <= 3650:
            say("half_life_days", "The score halves after more than 0 and at most 3650 days "
                "without activity.")  # fmt: skip
        return problems

    async def do_set_score_rules(self, actor: Actor, data: ScoreRulesPut) -> CrmScoreRules:
        """Replace the score rules (admins: the route checks) as of ``data.version`` (the
        version the person saw). Audited on the CRM chain with what changed. The scores follow:
        the worker's sweep (``do_recompute_scores``) marks every open lead due once and
        rescores it by the new version.

        Raises:
            ScoreRulesInvalid (422, ``details.problems``: field and sentence each; nothing
            stored), ScoreRulesChanged (409: someone changed them since that version).
        """
        problems = self.check_score_rules(data)
        if problems:
            raise ScoreRulesInvalid(
                " ".join(p.message for p in problems),
                details={"problems": [p.model_dump() for p in problems]},
            )
        current = await self.score_rules()
        if data.version != current.version:
            raise ScoreRulesChanged("someone changed the score rules since you saw them",
                                    details={"version": current.version})  # fmt: skip
        now = utcnow()
        rules = CrmScoreRules(
            id=repository.SCORE_RULES_ID,
            source_points={r.key: r.points for r in data.source_points},
            engagement_points=data.engagement_points, engagement_cap=data.engagement_cap,
            engagement_days=data.engagement_days,
            completeness_points={r.key: r.points for r in data.completeness_points},
            half_life_days=data.half_life_days, version=current.version + 1, updated_at=now,
            updated_by=actor.user_id,
        )  # fmt: skip

        def diff(before: dict[str, int], after: dict[str, int]) -> dict[str, list[Any]]:
            keys = sorted(set(before) | set(after))
            return {k: [before.get(k), after.get(k)] for k in keys
                    if before.get(k) != after.get(k)}  # fmt: skip

        changed: dict[str, Any] = {
            "source_points": diff(current.source_points, rules.source_points),
            "completeness_points": diff(current.completeness_points, rules.completeness_points),
        }
        for key in ("engagement_points", "engagement_cap", "engagement_days", "half_life_days"):
            if getattr(current, key) != getattr(rules, key):
                changed[key] = [getattr(current, key), getattr(rules, key)]

        if not await repository.save_score_rules(rules, current.version):
            raise ScoreRulesChanged("someone changed the score rules since you saw them",
                                    details={"version": current.version + 1})  # fmt: skip
        await audit_service.do_append(
            chain=AUDIT_CHAIN, actor_id=actor.user_id, action="crm.score_rules.update",
            target_type="score_rules", target_id=repository.SCORE_RULES_ID,
            details={"version": rules.version, "changed": changed},
        )  # fmt: skip
        return rules

    async def stale_score_count(self, version: int) -> int:
        """How many open leads are still scored by another version of the rules."""
        return await repository.count_stale_scores(version)

    async def compute_score(
        self, lead: Lead, now: dt.datetime | None = None, engagement_count: int | None = None,
        rules: CrmScoreRules | None = None, session: AsyncClientSession | None = None,
    ) -> ScoreParts:  # fmt: skip
        """The lead's score by the rules in force (``score_rules``, or ``rules``): source
        points, engagement points per activity in the window (capped; counted — in
        ``session`` when given — unless ``engagement_count`` is given), completeness points
        per filled field; their sum (capped at 100) × the decay
        0.5 ** (whole days inactive ÷ half-life), in basis points rounded half-even, then the
        total rounded half-even."""
        rules = rules or await self.score_rules()
        now = now or utcnow()
        source = rules.source_points.get(lead.source.value, 0)
        since = now - dt.timedelta(days=rules.engagement_days)
        count = engagement_count
        if count is None:
            kinds = [k.value for k in ENGAGEMENT_KINDS]
            count = await repository.count_activities(str(lead.id), kinds, since, session) \
                if lead.id else 0  # fmt: skip
        oldest = None
        if engagement_count is None and count and lead.id:
            oldest = await repository.oldest_activity_at(
                str(lead.id), [k.value for k in ENGAGEMENT_KINDS], since, session)  # fmt: skip
        engagement = min(rules.engagement_cap, count * rules.engagement_points)
        present = {
            "email": lead.email,
            "phone": lead.phone_last4,
            "city": lead.city,
            "company": lead.company,
            "investment_capacity": lead.investment_capacity,
        }
        completeness = sum(points for name, points in rules.completeness_points.items()
                           if present.get(name) not in (None, ""))  # fmt: skip
        raw = min(100, source + engagement + completeness)
        last = lead.last_activity_at
        if last.tzinfo is None:
            last = last.replace(tzinfo=dt.UTC)
        days = max(0, (now - last).days)
        factor = Decimal(2) ** (Decimal(-days) / Decimal(str(rules.half_life_days)))
        decay_bp = int((factor * 10_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
        total = int(
            (Decimal(raw * decay_bp) / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        )
        rescore_at = None
        if lead.status in OPEN_STATUSES:
            moments = [
                last + dt.timedelta(days=days + 1),  # the next whole day of inactivity
                now + dt.timedelta(seconds=crm_settings().score_refresh_seconds),
            ]
            if oldest is not None:  # the oldest engaging activity leaves the window
                if oldest.tzinfo is None:
                    oldest = oldest.replace(tzinfo=dt.UTC)
                moments.append(oldest + dt.timedelta(days=rules.engagement_days,
                                                     milliseconds=1))  # fmt: skip
            rescore_at = min(moments)
        return ScoreParts(source=source, engagement=engagement, completeness=completeness,
                          decay_bp=decay_bp, days_inactive=days, total=total,
                          computed_at=now, rules_version=rules.version,
                          rescore_at=rescore_at)  # fmt: skip

    async def _rescore(self, lead: Lead) -> None:
        parts = await self.compute_score(lead)
        assert lead.id is not None
        await repository.set_score(lead.id, parts.total, parts.model_dump())

    async def _rescored_in(self, session: AsyncClientSession, lead: Lead) -> Lead:
        """The lead with its score recomputed and stored inside the caller's transaction (so
        the boards' event and a page reading after the commit carry the new score)."""
        parts = await self.compute_score(lead, session=session)
        assert lead.id is not None
        await repository.set_score(lead.id, parts.total, parts.model_dump(), session)
        return lead.model_copy(update={"score": parts.total, "score_parts": parts})

    async def do_recompute_scores(self, now: dt.datetime | None = None, limit: int = 200) -> int:
        """The worker's sweep: recompute the scores that are due — a lead's score records when
        it next changes by time alone (``ScoreParts.rescore_at``: a day of inactivity more,
        an activity leaving the engagement window, the refresh period at the latest); every
        other input (status, profile, activities) rescores the lead in the transaction that
        changes it. When the rules' version is one the open leads were not yet marked for (an
        admin changed them, or they were reset), every open lead is marked due once. A sweep
        with nothing due reads one index range and no lead. Returns how many leads it touched
        (rescored, or — a closed lead found due — only unmarked). Idempotent."""
        now = now or utcnow()
        rules = await self.score_rules()
        if await repository.swept_rules_version() != rules.version:
            await repository.mark_open_scores_due(now, rules.version)
        due = await repository.due_scores(now, limit)
        for lead in due:
            assert lead.id is not None
            if lead.status not in OPEN_STATUSES:
                await repository.clear_rescore(lead.id)
                continue
            parts = await self.compute_score(lead, now, rules=rules)
            await repository.set_score(lead.id, parts.total, parts.model_dump())
        return len(due)

    # ---- reports ------------------------------------------------------------------------

    async def report(self, actor: Actor, since: dt.date | None, until: dt.date | None) -> CrmReport:
        """Figures over the leads created in [``since``, ``until``) within scope: conversion
        (converted ÷ leads, basis points) overall and by source, owner and month of
        creation; the funnel (leads that reached each stage); leads by status; the clients in
        scope by segment and their KYC compliance."""
        settings = crm_settings()
        query: Filter = {"status": {"$ne": "merged"}}
        window: Filter = {}
        if since:
            window["$gte"] = dt.datetime.combine(since, dt.time(), dt.UTC)
        if until:
            window["$lt"] = dt.datetime.combine(until, dt.time(), dt.UTC)
        if window:
            query["created_at"] = window
        leads = await repository.all_leads(scoped(actor, query))
        names = await people.names(sorted({lead.owner_id for lead in leads if lead.owner_id}))

        def rows(key_of: Any, label_of: Any) -> list[RateRow]:
            groups: dict[str, list[int]] = {}
            for lead in leads:
                row = groups.setdefault(key_of(lead), [0, 0])
                row[0] += 1
                row[1] += lead.status is LeadStatus.CONVERTED
            return [RateRow(key=k, label=label_of(k), leads=n, converted=c, rate_bp=_bp(c, n))
                    for k, (n, c) in sorted(groups.items())]  # fmt: skip

        converted = sum(1 for lead in leads if lead.status is LeadStatus.CONVERTED)
        funnel = [
            FunnelRow(
                stage=stage.value, leads=sum(1 for lead in leads if STAGES.index(lead.stage) >= i)
            )
            for i, stage in enumerate(STAGES)
        ]
        statuses: dict[str, int] = {}
        for lead in leads:
            statuses[lead.status.value] = statuses.get(lead.status.value, 0) + 1
        clients = await repository.all_clients(scoped(actor, {"erased_at": None}))
        segments: dict[str, int] = {s.value: 0 for s in Segment}
        for client in clients:
            segments[client.segment.value] += 1
        return CrmReport(
            leads=len(leads), converted=converted, rate_bp=_bp(converted, len(leads)),
            by_source=rows(lambda lead: lead.source.value, lambda k: k.replace("_", " ")),
            by_agent=rows(lambda lead: lead.owner_id or "unassigned",
                          lambda k: names.get(k, "Unassigned")),
            by_month=rows(lambda lead: lead.created_at.strftime("%Y-%m"), lambda k: k),
            funnel=funnel,
            by_status=[CountRow(key=k, count=v) for k, v in sorted(statuses.items())],
            clients_by_segment=[CountRow(key=k, count=v) for k, v in segments.items()],
            kyc=await self._kyc_compliance(clients, settings.kyc_expiring_days),
        )  # fmt: skip

    async def _kyc_compliance(self, clients: list[Client], days: int) -> KycCompliance:
        today = dt.datetime.now(dt.UTC).date()
        horizon = (today + dt.timedelta(days=days)).isoformat()
        verified = pending = expiring = 0
        for client in clients:
            if not client.user_id:
                continue
            summary = await kyc_service.summary(client.user_id)
            if summary.status.value == "verified":
                verified += 1
                if any(d.status is DocumentStatus.VERIFIED and d.expires_on
                       and today.isoformat() <= d.expires_on <= horizon
                       for d in summary.documents):  # fmt: skip
                    expiring += 1
            elif summary.status.value == "pending":
                pending += 1
        return KycCompliance(clients=len(clients), verified=verified, pending=pending,
                             other=len(clients) - verified - pending, expiring=expiring,
                             expiring_days=days)  # fmt: skip

    async def audit_trail(
        self, action: str | None, limit: int
    ) -> tuple[list[Any], bool, int, dict[str, str]]:
        """The CRM chain's newest records (of actions starting with ``action``), whether the
        chain verifies, how many records it checked, and the actors' names (admins only: the
        route checks)."""
        fetch = 2_000 if action else limit
        records = await audit_service.latest(AUDIT_CHAIN, None, fetch)
        if action:
            records = [r for r in records if r.action.startswith(action)][:limit]
        report = await audit_service.verify(AUDIT_CHAIN)
        names = await people.names(sorted({r.actor_id for r in records if r.actor_id}))
        return records, report.ok, report.checked, names

    async def export_rows(self, actor: Actor) -> list[Lead]:
        """Every live lead in scope for a CSV export, newest first."""
        items, _ = await repository.leads(scoped(actor, {"status": {"$ne": "merged"}}),
                                          limit=100_000)  # fmt: skip
        return items

    # ---- data protection ----------------------------------------------------------------

    async def export_person(self, actor: Actor, lead_id: str) -> dict[str, Any]:
        """Everything held on the lead's person: the lead (phone in the clear), their client
        record (address in the clear), every activity and reminder, and — when the client is
        linked to a platform account — that account's details and their KYC documents' details.
        Raises ``LeadNotFound``."""
        lead = await self.lead(actor, lead_id)
        client = await repository.client(lead.client_id, {}) if lead.client_id else None
        lead_data = lead.model_dump(mode="json", exclude={"phone_sealed", "dedupe_phone",
                                                          "search_text"})  # fmt: skip
        lead_data["phone"] = self.phone_of(lead)
        client_data = None
        if client is not None:
            client_data = client.model_dump(mode="json", exclude={"phone_sealed", "address_sealed"})
            client_data.update(phone=self.phone_of(client), address=self.address_of(client))
        activities = await repository.timeline([lead_id], lead.client_id, 10_000)
        reminders = await repository.reminders_of({"lead_id": lead_id}, 10_000)
        account: dict[str, Any] | None = None
        kyc: list[dict[str, Any]] = []
        if client is not None and client.user_id:
            user = (await people.users([client.user_id])).get(client.user_id)
            if user is not None:
                shown = {"id", "email", "full_name", "roles", "status", "kyc_status", "created_at"}
                account = user.model_dump(mode="json", include=shown)
            summary = await kyc_service.summary(client.user_id)
            kyc = [d.model_dump(mode="json", exclude={"fingerprint", "number_encrypted"})
                   for d in summary.documents]  # fmt: skip
        await audit_service.do_append(
            chain=AUDIT_CHAIN, actor_id=actor.user_id, action="crm.person.export",
            target_type="lead", target_id=privacy.subject_hash(lead_id),
        )  # fmt: skip
        return {
            "lead": lead_data, "client": client_data,
            "activities": [a.model_dump(mode="json") for a in activities],
            "reminders": [r.model_dump(mode="json") for r in reminders],
            "account": account, "kyc": kyc,
            "exported_at": utcnow(),
        }  # fmt: skip

    async def do_erase(self, actor: Actor | None, lead_id: str, why: str = "request") -> tuple[
        Lead, Client | None, str, AccountOutcome]:  # fmt: skip
        """Erase the person behind a lead (and its client): names, contacts, notes and
        reminder texts are removed, unique keys released; the records stay as tombstones.
        The audit chain is untouched — it names people only by keyed hash — so it still
        verifies.

        Their platform account (docs/domain.md, CRM: erasure): when the CRM's own invitation
        made it and no other domain holds anything of it (``retention.retained_of``), it is
        anonymised through identity (``directory.do_erase_account``: cannot sign in, sessions
        revoked; never deleted, so references hold); otherwise it stays and the outcome says
        what keeps it and why (legal retention, or an account of their own). Returns the lead,
        client, subject hash and that outcome.

        Raises:
            LeadNotFound, ErasedSubject (erased already), LeadChanged.
        """
        lead = await self.lead(actor, lead_id) if actor else await repository.lead(lead_id, {})
        if lead is None:
            raise LeadNotFound("no such lead")
        if lead.erased_at is not None:
            raise ErasedSubject("this person's data was erased already")
        client = await repository.client(lead.client_id, {}) if lead.client_id else None
        outcome = await self._account_outcome(client)
        now = utcnow()
        who = await board.audience([lead.owner_id])
        watchers = await board.audience([client.owner_id]) if client is not None else None
        # The leads merged into this one are the same person: their addresses go too.
        twins = await repository.all_leads({"merged_into": lead_id, "status": "merged"})
        addresses = [a for t in [lead, *twins] for a in (t.email, t.held_email) if a]
        if client is not None and client.email:
            addresses.append(client.email)

        async def body(session: AsyncClientSession) -> None:
            assert lead.id is not None
            erased = await repository.update_lead(lead.id, lead.version, {
                "full_name": "(erased)", "email": None, "phone_sealed": None,
                "phone_last4": None, "city": None, "company": None, "message": None,
                "search_text": "", "name_tokens": [], "erased_at": now, "updated_at": now,
            }, session, unset=["dedupe_email", "dedupe_phone"])  # fmt: skip
            if not erased:
                raise LeadChanged("someone changed this lead meanwhile; look again and retry")
            if client is not None:
                assert client.id is not None
                await repository.update_client(client.id, {
                    "full_name": "(erased)", "email": None, "phone_sealed": None,
                    "phone_last4": None, "address_sealed": None, "city": None, "company": None,
                    "investment_profile": InvestmentProfile().model_dump(),
                    "status": ClientStatus.INACTIVE.value, "erased_at": now,
                    "link_user_id": None,
                    "account_retained": [r.reason for r in outcome.retained],
                }, session)  # fmt: skip
            await repository.erase_activities(lead_id, lead.client_id, session)
            await repository.cancel_reminders(lead_id, session)
            await repository.erase_reminder_texts(lead_id, lead.client_id, session)
            await repository.erase_merges(lead_id, now, session)
            same = await repository.erase_merged_away(lead_id, now, session)
            # The boards' logs replay what they told: not the person's data any more.
            await eventlog.redact(session, {"event": board.BOARD_EVENT,
                                            "data.lead.id": {"$in": [lead_id, *same]}},
                                  ERASED_LEAD_FIELDS)  # fmt: skip
            about: list[Filter] = [{"data.reminder.lead_id": lead_id}]
            if lead.client_id:
                about.append({"data.reminder.client_id": lead.client_id})
            await eventlog.redact(session, {"event": REMINDER_EVENT, "$or": about},
                                  {"subject": "(erased)", "reminder.text": ""})  # fmt: skip
            await _audit(session, actor.user_id if actor else None, "crm.person.erase", "lead",
                         lead_id, why=why, account=outcome.state,
                         retained=[r.kind for r in outcome.retained])  # fmt: skip
            await board.record(session, who, await self._stored(session, lead_id), "erased")

        await run_in_transaction(body)
        if outcome.state == "erased" and client is not None and client.user_id:
            await people.erase_account(client.user_id)
        # What other domains keep about them: staff's notifications naming them (follow-ups,
        # KYC expiries), and sign-in attempts typed with their addresses no account holds.
        await notification_service.do_forget_about("crm_lead", [lead_id])
        if client is not None:
            await notification_service.do_forget_about("crm_client", [str(client.id)])
        await people.forget_addresses(addresses)
        if client is not None and watchers is not None:
            # Told once the account's fate is settled too, so an open page reads both.
            erased_id = str(client.id)

            async def tell(session: AsyncClientSession) -> None:
                assert watchers is not None
                await self._client_changed(session, watchers, erased_id, "erased")

            await run_in_transaction(tell)
        erased = await repository.lead(lead_id, {})
        assert erased is not None
        return erased, client, privacy.subject_hash(lead_id), outcome

    async def _account_outcome(self, client: Client | None) -> AccountOutcome:
        """Whether an erasure of ``client`` erases their platform account too, and if not
        what keeps it (see ``do_erase``)."""
        if client is None or not client.user_id:
            return AccountOutcome("none", [])
        created = client.account_created or await repository.invited_new_account(
            client.lead_id, client.user_id)  # fmt: skip
        if not created:
            return AccountOutcome("kept", [retention.Retained("own_account", 1, (
                "the account was theirs before the CRM asked to link it: the CRM erased only "
                "its own records, and they can close their account themselves"))])  # fmt: skip
        kept = await retention.retained_of(client.user_id)
        return AccountOutcome("kept" if kept else "erased", kept)

    async def do_retention_sweep(self, now: dt.datetime | None = None, limit: int = 200) -> int:
        """Erase lost leads with no activity for ``retention_lost_days`` (the retention
        policy). Returns how many were erased; a re-run erases nothing twice."""
        now = now or utcnow()
        before = now - dt.timedelta(days=crm_settings().retention_lost_days)
        erased = 0
        for lead in await repository.retention_due(before, limit):
            try:
                await self.do_erase(None, str(lead.id), why="retention")
            except (LeadNotFound, ErasedSubject):
                continue
            erased += 1
        return erased


def _literal(text: str) -> str:
    return repository.text_filter(text)["search_text"]["$regex"]


crm_service = CrmService()
