"""Every failure a CRM client can cause: an HTTP status and a stable code each."""

from __future__ import annotations

from app.errors import AppError, NotFound


class LeadNotFound(NotFound):
    """No such lead, or it is outside the caller's scope (404, never 403: ARCHITECTURE rule 6)."""

    code = "lead_not_found"


class ClientNotFound(NotFound):
    """No such client, or it is outside the caller's scope (404)."""

    code = "client_not_found"


class ReminderNotFound(NotFound):
    """No such reminder of the caller's leads and clients (404)."""

    code = "reminder_not_found"


class MergeNotFound(NotFound):
    """No such merge in the caller's scope (404)."""

    code = "merge_not_found"


class StaffNotFound(NotFound):
    """The user is not CRM staff (404)."""

    code = "crm_staff_not_found"


class InvalidContact(AppError):
    """An e-mail address or phone number that cannot be normalised (422, ``details.field``)."""

    status = 422
    code = "invalid_contact"


class DuplicateLead(AppError):
    """A lead with the same e-mail or phone exists (409, ``details.field``, ``details.lead_id``
    when the caller may see it)."""

    status = 409
    code = "lead_duplicate"


class IllegalTransition(AppError):
    """The lead's status cannot move that way (409, ``details.from``, ``details.to``)."""

    status = 409
    code = "lead_illegal_transition"


class LostReasonRequired(AppError):
    """Marking a lead lost needs a reason (422)."""

    status = 422
    code = "lost_reason_required"


class LeadMergedAway(AppError):
    """The lead was merged into another (``details.merged_into``): new activities and
    reminders go there (409)."""

    status = 409
    code = "lead_merged"


class RiskFromQuestionnaire(AppError):
    """The client took the advisory risk questionnaire: its result is their risk tolerance
    and staff cannot override it (409)."""

    status = 409
    code = "risk_from_questionnaire"


class KycReasonRequired(AppError):
    """Rejecting a KYC document needs a reason the client is told (422)."""

    status = 422
    code = "kyc_reason_required"


class ConvertRequired(AppError):
    """``converted`` is reached only through ``POST …/convert`` (409)."""

    status = 409
    code = "lead_convert_required"


class MergeRefused(AppError):
    """A merge that cannot happen: with itself, or a lead that is converted, merged or erased
    (409, ``details.reason``)."""

    status = 409
    code = "lead_merge_refused"


class UndoRefused(AppError):
    """A merge that cannot be undone: undone already, or its leads changed since in a way that
    would collide (409, ``details.reason``)."""

    status = 409
    code = "merge_undo_refused"


class AssigneeInvalid(AppError):
    """The assignee is not an active CRM agent or manager (422)."""

    status = 422
    code = "assignee_invalid"


class ImportInvalid(AppError):
    """The CSV cannot be read at all: no header, unknown columns, too many rows (422)."""

    status = 422
    code = "import_invalid"


class ReminderInPast(AppError):
    """A follow-up's due time is in the past (422, ``details.field``)."""

    status = 422
    code = "reminder_in_past"


class ReminderState(AppError):
    """The reminder is done or cancelled already (409)."""

    status = 409
    code = "reminder_state"


class ErasedSubject(AppError):
    """The person's data was erased; nothing more can be done with the record (409)."""

    status = 409
    code = "subject_erased"


class LeadChanged(AppError):
    """The lead changed between reading and writing it (another person's edit): nothing was
    written; read it again and retry (409)."""

    status = 409
    code = "lead_changed"


class ClientNotMember(AppError):
    """The client has no platform account yet, so KYC documents cannot be held for them:
    invite them first (409)."""

    status = 409
    code = "client_not_member"


class ScoreRulesInvalid(AppError):
    """Proposed score rules break a rule (422, ``details.problems``: ``field`` and a sentence
    ``message`` each); nothing was stored."""

    status = 422
    code = "score_rules_invalid"


class ScoreRulesChanged(AppError):
    """Someone changed the score rules since the version the person saw (409,
    ``details.version``: the one in force); nothing was stored."""

    status = 409
    code = "score_rules_changed"
