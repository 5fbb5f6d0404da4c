"""The Socket.IO event contract as an AsyncAPI 3.0 document, generated from the pydantic models
of every payload and served at ``/asyncapi.json`` (next to ``/openapi.json``).

Described from the server's side: ``send`` operations are events the server emits into a room
(every payload has ``id`` and ``ts``; club-room log events also ``seq``); ``receive``
operations are events a client emits, answered through the Socket.IO acknowledgement
(``reply``) with ``{"ok": true, …}`` or ``{"ok": false, "error": {code, message, details}}``.
A connection authenticates with ``auth: {"token": "<JWT>"}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from quart import Blueprint, jsonify

from app.advisory.schemas import BookingChangedEvent, DriftAlertEvent, RebalanceUpdatedEvent
from app.alerts.schemas import AlertTriggeredEvent
from app.books.events import (
    ContributionChanged,
    ContributionReceived,
    DuesChanged,
    ValuationRecorded,
)
from app.books.schemas import PortfolioNavEvent
from app.broadcasts.schemas import BroadcastEvent
from app.campaigns.schemas import (
    AdminRoomJoin,
    AdminRoomJoined,
    AdminRoomLeft,
    CampaignAdminEvent,
    CampaignJoin,
    CampaignJoined,
    CampaignLeave,
    CampaignProgressEvent,
    CampaignReportDueEvent,
    CampaignReportEvent,
    CampaignUpdateEvent,
)
from app.chat.schemas import (
    ChatDeletedEvent,
    ChatEditedEvent,
    ChatMessageEvent,
    ChatTypingEvent,
    MessageOut,
    SocketMessageDelete,
    SocketMessageEdit,
    SocketMessageSend,
    TypingRequest,
)
from app.chits.schemas import (
    BidAck,
    BidRequest,
    ChitAuctionClosedEvent,
    ChitAuctionOpenedEvent,
    ChitBidEvent,
    ChitPaymentEvent,
    ChitSchemeEvent,
    SchemeJoin,
    SchemeJoined,
    SchemeLeft,
)
from app.clubs.events import RulesChangedEvent, WatchlistChangedEvent
from app.crm.schemas import (
    BoardJoin,
    BoardJoined,
    BoardLeave,
    BoardLeft,
    CrmClientEvent,
    CrmLeadEvent,
    ReminderDueEvent,
)
from app.kyc.schemas import KycExpiryEvent, KycStatusEvent
from app.market.schemas import QuoteBatch, QuoteSubscription, QuoteTick
from app.notifications.schemas import NotificationNewEvent, NotificationReadEvent
from app.openapi import ErrorDetail
from app.orders.schemas import OrderUpdatedEvent
from app.proposals.schemas import (
    ProposalCancelledEvent,
    ProposalClosedEvent,
    ProposalCommentEvent,
    ProposalCreatedEvent,
    SocketVoteCast,
    VoteOut,
    VoteTallyEvent,
)
from app.realtime.contract import SessionRevokedEvent
from app.realtime.resume import RoomHeadEvent
from app.reports.schemas import ReportProgressEvent
from app.rooms.schemas import (
    FeedJoin,
    FeedJoined,
    PresenceEvent,
    RoomJoin,
    RoomJoined,
    RoomLeave,
    RoomRemovedEvent,
    RoomSync,
)


class ErrorAck(BaseModel):
    """A refused client event: nothing changed."""

    ok: Literal[False]
    error: ErrorDetail


class OkAck(BaseModel):
    ok: Literal[True]


class QuoteAck(BaseModel):
    ok: Literal[True]
    symbols: list[str]


class RoomLeft(BaseModel):
    ok: Literal[True]
    club_id: str


class CampaignLeft(BaseModel):
    ok: Literal[True]
    campaign_id: str


class MessageAck(BaseModel):
    ok: Literal[True]
    message: MessageOut


class VoteAck(BaseModel):
    ok: Literal[True]
    vote: VoteOut


@dataclass(frozen=True, slots=True)
class Channel:
    key: str
    address: str | None
    description: str
    parameter: str | None = None


CHANNELS = {
    c.key: c
    for c in (
        Channel("club", "club:{club_id}", "A club's room: members who sent room:join.", "club_id"),
        Channel("user", "user:{user_id}", "Every socket of one account (joined on connect).",
                "user_id"),
        Channel("symbol", "symbol:{symbol}", "Watchers of a symbol (quote:subscribe).", "symbol"),
        Channel("accounts", "accounts", "Every signed-in (non-guest) socket."),
        Channel("person", "person:{user_id}", "One person's own log (feed:join with feed "
                "person): KYC decisions and expiries, consultations, club broadcasts; replayed "
                "after after_seq.", "user_id"),
        Channel("broadcasts", "broadcasts:all", "The log of broadcasts to everyone (feed:join "
                "with feed broadcasts); replayed after after_seq."),
        Channel("scheme", "scheme:{scheme_id}", "A chit scheme's live room: its foreman, ticket "
                "holders and admins who sent chit:join.", "scheme_id"),
        Channel("campaign", "campaign:{campaign_id}", "A campaign's live page, and the "
                "crowdfunding dashboards of its owner and investors, which join without "
                "history (campaign:join, with_events false) and fetch their state afresh on "
                "each event.", "campaign_id"),
        Channel("campaigns_admin", "campaigns:admin", "Platform admins watching the "
                "crowdfunding dashboard (campaign:admin_join): each campaign:admin says what "
                "it lists changed, and the dashboard fetches itself afresh."),
        Channel("crm_board", "crm:board:{viewer}", "A member of CRM staff's live pipeline "
                "board (crm:join): their own and their team's leads and clients, and follow-ups "
                "falling due; crm:board:all for admins.",
                "viewer"),
        Channel("socket", None, "One connection: events a client emits, and direct replies."),
    )
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ServerEventSpec:
    """An event the server emits: its name, channel and payload; ``sequenced``: stored in its
    room's log with a ``seq`` (replayed by the room's join / sync: room:join, campaign:join,
    chit:join, crm:join, feed:join)."""

    name: str
    channel: str
    payload: type[BaseModel]
    sequenced: bool = False


@dataclass(frozen=True, slots=True)
class ClientEventSpec:
    """An event a client emits and the acknowledgement it gets."""

    name: str
    payload: type[BaseModel]
    ack: type[BaseModel]


SERVER_EVENTS: tuple[ServerEventSpec, ...] = (
    ServerEventSpec("chat:message", "club", ChatMessageEvent, True),
    ServerEventSpec("chat:edited", "club", ChatEditedEvent, True),
    ServerEventSpec("chat:deleted", "club", ChatDeletedEvent, True),
    ServerEventSpec("proposal:created", "club", ProposalCreatedEvent, True),
    ServerEventSpec("vote:tally", "club", VoteTallyEvent, True),
    ServerEventSpec("proposal:closed", "club", ProposalClosedEvent, True),
    ServerEventSpec("proposal:cancelled", "club", ProposalCancelledEvent, True),
    ServerEventSpec("proposal:comment", "club", ProposalCommentEvent, True),
    ServerEventSpec("chat:typing", "club", ChatTypingEvent),
    ServerEventSpec("presence:update", "club", PresenceEvent),
    ServerEventSpec("contribution:received", "club", ContributionReceived, True),
    ServerEventSpec("contribution:changed", "club", ContributionChanged, True),
    ServerEventSpec("portfolio:valued", "club", ValuationRecorded, True),
    ServerEventSpec("dues:changed", "club", DuesChanged, True),
    ServerEventSpec("watchlist:changed", "club", WatchlistChangedEvent, True),
    ServerEventSpec("club:rules_changed", "club", RulesChangedEvent, True),
    ServerEventSpec("alert:triggered", "club", AlertTriggeredEvent, True),
    ServerEventSpec("order:updated", "club", OrderUpdatedEvent, True),
    ServerEventSpec("portfolio:nav", "club", PortfolioNavEvent),
    ServerEventSpec("portfolio:drift", "club", DriftAlertEvent, True),
    ServerEventSpec("portfolio:rebalance", "club", RebalanceUpdatedEvent, True),
    ServerEventSpec("advisory:booking", "person", BookingChangedEvent, True),
    ServerEventSpec("room:removed", "socket", RoomRemovedEvent),
    ServerEventSpec("room:head", "socket", RoomHeadEvent),
    ServerEventSpec("notification:new", "user", NotificationNewEvent),
    ServerEventSpec("notification:read", "user", NotificationReadEvent),
    ServerEventSpec("broadcast:message", "person", BroadcastEvent, True),
    ServerEventSpec("broadcast:message", "broadcasts", BroadcastEvent, True),
    ServerEventSpec("session:revoked", "user", SessionRevokedEvent),
    ServerEventSpec("quote:tick", "symbol", QuoteTick),
    ServerEventSpec("quote:batch", "symbol", QuoteBatch),
    ServerEventSpec("report:progress", "user", ReportProgressEvent),
    ServerEventSpec("kyc:status", "person", KycStatusEvent, True),
    ServerEventSpec("chit:bid", "scheme", ChitBidEvent, True),
    ServerEventSpec("chit:auction_opened", "scheme", ChitAuctionOpenedEvent, True),
    ServerEventSpec("chit:auction_closed", "scheme", ChitAuctionClosedEvent, True),
    ServerEventSpec("chit:payment", "scheme", ChitPaymentEvent, True),
    ServerEventSpec("chit:scheme", "scheme", ChitSchemeEvent, True),
    ServerEventSpec("kyc:expiry", "person", KycExpiryEvent, True),
    ServerEventSpec("crm:reminder", "crm_board", ReminderDueEvent, True),
    ServerEventSpec("crm:lead", "crm_board", CrmLeadEvent, True),
    ServerEventSpec("crm:client", "crm_board", CrmClientEvent, True),
    ServerEventSpec("campaign:progress", "campaign", CampaignProgressEvent, True),
    ServerEventSpec("campaign:update", "campaign", CampaignUpdateEvent, True),
    ServerEventSpec("campaign:report", "campaign", CampaignReportEvent, True),
    ServerEventSpec("campaign:report_due", "campaign", CampaignReportDueEvent, True),
    ServerEventSpec("campaign:admin", "campaigns_admin", CampaignAdminEvent, True),
)

CLIENT_EVENTS: tuple[ClientEventSpec, ...] = (
    ClientEventSpec("room:join", RoomJoin, RoomJoined),
    ClientEventSpec("room:sync", RoomSync, RoomJoined),
    ClientEventSpec("room:leave", RoomLeave, RoomLeft),
    ClientEventSpec("feed:join", FeedJoin, FeedJoined),
    ClientEventSpec("chat:send", SocketMessageSend, MessageAck),
    ClientEventSpec("chat:edit", SocketMessageEdit, MessageAck),
    ClientEventSpec("chat:delete", SocketMessageDelete, MessageAck),
    ClientEventSpec("chat:typing", TypingRequest, OkAck),
    ClientEventSpec("vote:cast", SocketVoteCast, VoteAck),
    ClientEventSpec("quote:subscribe", QuoteSubscription, QuoteAck),
    ClientEventSpec("quote:unsubscribe", QuoteSubscription, QuoteAck),
    ClientEventSpec("chit:join", SchemeJoin, SchemeJoined),
    ClientEventSpec("chit:leave", SchemeJoin, SchemeLeft),
    ClientEventSpec("chit:bid", BidRequest, BidAck),
    ClientEventSpec("campaign:join", CampaignJoin, CampaignJoined),
    ClientEventSpec("campaign:sync", CampaignJoin, CampaignJoined),
    ClientEventSpec("campaign:leave", CampaignLeave, CampaignLeft),
    ClientEventSpec("campaign:admin_join", AdminRoomJoin, AdminRoomJoined),
    ClientEventSpec("campaign:admin_leave", AdminRoomJoin, AdminRoomLeft),
    ClientEventSpec("crm:join", BoardJoin, BoardJoined),
    ClientEventSpec("crm:leave", BoardLeave, BoardLeft),
)

SERVER_PAYLOADS: dict[str, type[BaseModel]] = {e.name: e.payload for e in SERVER_EVENTS}
"""Event name → payload model, for clients and tests that validate what they receive."""


def _key(name: str) -> str:
    return name.replace(":", "_")


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.replace(":", "_").split("_"))


@lru_cache(maxsize=1)
def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document (built once per process)."""
    models: list[type[BaseModel]] = []
    for model in [e.payload for e in SERVER_EVENTS] + [
        m for c in CLIENT_EVENTS for m in (c.payload, c.ack)
    ] + [ErrorAck]:  # fmt: skip
        if model not in models:
            models.append(model)
    _, top = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = top.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{model.__name__}"}

    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for key, channel in CHANNELS.items():
        spec: dict[str, Any] = {"address": channel.address, "description": channel.description,
                                "messages": {}}  # fmt: skip
        if channel.parameter:
            spec["parameters"] = {channel.parameter: {"description": f"the {channel.parameter}"}}
        channels[key] = spec
    for event in SERVER_EVENTS:
        mkey = _key(event.name)
        doc = (event.payload.__doc__ or "").strip()
        messages[mkey] = {
            "name": event.name, "title": event.name, "summary": doc.split("\n")[0],
            "description": doc, "payload": ref(event.payload),
            "x-socketio-event": event.name, "x-sequenced": event.sequenced,
        }  # fmt: skip
        channels[event.channel]["messages"][mkey] = {"$ref": f"#/components/messages/{mkey}"}
        operations[f"send{_camel(event.name)}To{event.channel.title()}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{event.channel}"},
            "messages": [{"$ref": f"#/channels/{event.channel}/messages/{mkey}"}],
        }
    for client in CLIENT_EVENTS:
        mkey, akey = _key(client.name), _key(client.name) + "_ack"
        doc = (client.payload.__doc__ or "").strip()
        messages[mkey] = {
            "name": client.name, "title": client.name, "summary": doc.split("\n")[0],
            "payload": ref(client.payload), "x-socketio-event": client.name,
        }  # fmt: skip
        messages[akey] = {
            "name": f"{client.name} acknowledgement", "title": f"{client.name} ack",
            "payload": {"oneOf": [ref(client.ack), ref(ErrorAck)]},
        }  # fmt: skip
        channels["socket"]["messages"][mkey] = {"$ref": f"#/components/messages/{mkey}"}
        channels["socket"]["messages"][akey] = {"$ref": f"#/components/messages/{akey}"}
        operations[f"receive{_camel(client.name)}"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/socket"},
            "messages": [{"$ref": f"#/channels/socket/messages/{mkey}"}],
            "reply": {
                "channel": {"$ref": "#/channels/socket"},
                "messages": [{"$ref": f"#/channels/socket/messages/{akey}"}],
            },
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Samooh real-time events",
            "version": "1",
            "description": (__doc__ or "").strip(),
        },
        "defaultContentType": "application/json",
        "servers": {
            "socketio": {
                "host": "{host}",
                "pathname": "/socket.io",
                "protocol": "wss",
                "description": "Socket.IO (Engine.IO v4) on the web server; connect with "
                'auth = {"token": "<access or guest JWT>"}',
                "variables": {"host": {"default": "127.0.0.1:8000"}},
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


blueprint = Blueprint("asyncapi", __name__)


@blueprint.get("/asyncapi.json")
async def asyncapi_json() -> Any:
    """The AsyncAPI 3.0 document of every Socket.IO event."""
    return jsonify(asyncapi_document())
