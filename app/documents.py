"""Every Beanie document of every domain, registered once. Only entry points (the web app,
the worker, command-line tools, tests) import this: it knows every domain, and no domain
imports it."""

from __future__ import annotations

from app.advisory.documents import (
    AdvisorDesk,
    AdvisorSlot,
    AdvisoryAccount,
    Booking,
    ModelStrategy,
    RebalanceRun,
    Recommendation,
    RiskAssessment,
)
from app.alerts.documents import AlertFiring, PriceAlert
from app.audit.documents import AuditChainHead, AuditRecord
from app.books.documents import (
    CashHold,
    Contribution,
    Holding,
    MemberCharge,
    Valuation,
    Withdrawal,
)
from app.broadcasts.documents import Broadcast
from app.brokers.documents import BrokerLink, PositionCheck, RefusedPostback
from app.campaigns.documents import CAMPAIGN_DOCUMENTS
from app.chat.documents import ChatMessage
from app.chits.documents import CHIT_DOCUMENTS
from app.clubs.documents import Club, Invite, Membership
from app.crm.documents import crm_documents
from app.dues.documents import DuesLateFee, DuesWaiver
from app.files.documents import StoredFile
from app.idempotency_store import IdempotencyRecord
from app.identity.documents import EmailCode, SecurityEvent, Sequence, User
from app.kyc.documents import KycAllowance, KycDocument, KycExpiryAlert
from app.ledger.documents import JournalEntry
from app.market.documents import CandleYear, Instrument
from app.notifications.documents import Notification, NotificationSettings
from app.orders.documents import Fill, Order, PaperOrder
from app.payments.documents import PaymentOrder, PaymentOutcome, ProviderEvent
from app.proposals.documents import Proposal, ProposalComment, Vote, VoteRecord
from app.push.documents import PushSubscription
from app.realtime.eventlog import RoomCounter, RoomEvent
from app.reports.documents import ReportJob
from app.sms.documents import SMS_DOCUMENTS


def document_models() -> list[type]:
    """Every Beanie document of every domain (registered once, here)."""

    return [
        RiskAssessment,
        AdvisoryAccount,
        Recommendation,
        RebalanceRun,
        AdvisorSlot,
        AdvisorDesk,
        Booking,
        ModelStrategy,
        Instrument,
        PriceAlert,
        AlertFiring,
        CandleYear,
        User,
        EmailCode,
        SecurityEvent,
        Sequence,
        JournalEntry,
        AuditRecord,
        AuditChainHead,
        Club,
        Membership,
        Invite,
        Contribution,
        Withdrawal,
        MemberCharge,
        Valuation,
        Holding,
        CashHold,
        IdempotencyRecord,
        PaymentOrder,
        ProviderEvent,
        PaymentOutcome,
        StoredFile,
        KycDocument,
        KycExpiryAlert,
        KycAllowance,
        ReportJob,
        RoomCounter,
        RoomEvent,
        ChatMessage,
        Proposal,
        Vote,
        VoteRecord,
        ProposalComment,
        DuesWaiver,
        DuesLateFee,
        Order,
        Fill,
        BrokerLink,
        RefusedPostback,
        PositionCheck,
        PaperOrder,
        Notification,
        NotificationSettings,
        PushSubscription,
        Broadcast,
        *crm_documents(),
        *CHIT_DOCUMENTS,
        *SMS_DOCUMENTS,
        *CAMPAIGN_DOCUMENTS,
    ]
