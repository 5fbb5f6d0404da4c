"""Every MongoDB query of the proposals domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import object_id
from app.proposals.documents import (
    Proposal,
    ProposalComment,
    ProposalStatus,
    Vote,
    VoteRecord,
)
from app.proposals.tally import Choice

Session = AsyncClientSession | None


async def get(proposal_id: str, session: Session = None) -> Proposal | None:
    oid = object_id(proposal_id)
    return None if oid is None else await Proposal.get(oid, session=session)


async def insert(proposal: Proposal, session: AsyncClientSession) -> None:
    await proposal.insert(session=session)


async def update_open(
    proposal: Proposal, fields: Mapping[str, object], session: AsyncClientSession
) -> bool:
    """Set ``fields`` and bump ``version`` on a proposal that is still open at the version read;
    False when it moved (closed or voted on) in between."""
    result = await Proposal.get_pymongo_collection().update_one(
        {"_id": proposal.id, "status": ProposalStatus.OPEN.value, "version": proposal.version},
        {"$set": fields, "$inc": {"version": 1}},
        session=session,
    )
    return result.modified_count == 1


async def current_vote(proposal_id: str, user_id: str, session: Session = None) -> Vote | None:
    return await Vote.find_one({"proposal_id": proposal_id, "user_id": user_id}, session=session)


async def votes(proposal_id: str, session: Session = None) -> list[Vote]:
    return await Vote.find({"proposal_id": proposal_id}, session=session).to_list()


async def insert_vote(vote: Vote, session: AsyncClientSession) -> None:
    await vote.insert(session=session)


async def change_vote(vote: Vote, session: AsyncClientSession) -> None:
    await Vote.get_pymongo_collection().update_one(
        {"_id": vote.id},
        {"$set": {"choice": vote.choice.value, "updated_at": vote.updated_at},
         "$inc": {"changes": 1}},
        session=session,
    )  # fmt: skip


async def record(entry: VoteRecord, session: AsyncClientSession) -> None:
    await entry.insert(session=session)


async def history(proposal_id: str) -> list[VoteRecord]:
    return await VoteRecord.find({"proposal_id": proposal_id}).sort("+at").to_list()


async def of_club(
    club_id: str, status: str | None, limit: int, session: Session = None
) -> list[Proposal]:
    query: dict[str, object] = {"club_id": club_id}
    if status == "open":
        query["status"] = ProposalStatus.OPEN.value
    elif status == "closed":
        query["status"] = {"$ne": ProposalStatus.OPEN.value}
    return await Proposal.find(query, session=session).sort("-created_at").limit(limit).to_list()


async def due(now: dt.datetime, limit: int) -> list[Proposal]:
    return (
        await Proposal.find({"status": ProposalStatus.OPEN.value, "deadline": {"$lte": now}})
        .sort("+deadline")
        .limit(limit)
        .to_list()
    )


async def reminders_due(now: dt.datetime, limit: int) -> list[Proposal]:
    return (
        await Proposal.find(
            {"status": ProposalStatus.OPEN.value, "reminded_at": None,
             "remind_at": {"$lte": now}, "deadline": {"$gt": now}}
        )
        .sort("+remind_at")
        .limit(limit)
        .to_list()
    )  # fmt: skip


def choices(votes_: list[Vote]) -> dict[str, Choice]:
    return {v.user_id: v.choice for v in votes_}


async def mark_reminded(proposal: Proposal, session: Session) -> None:
    """Record that the closing-soon reminders of ``proposal`` went out (once)."""
    await Proposal.get_pymongo_collection().update_one(
        {"_id": proposal.id, "reminded_at": None},
        {"$set": {"reminded_at": dt.datetime.now(dt.UTC)}},
        session=session,
    )


async def insert_comment(comment: ProposalComment, session: AsyncClientSession) -> None:
    await comment.insert(session=session)


async def count_comments(proposal_id: str, session: Session = None) -> int:
    return await ProposalComment.find({"proposal_id": proposal_id}, session=session).count()


async def comments(proposal_id: str, after_seq: int, limit: int) -> list[ProposalComment]:
    """The thread's comments after room seq ``after_seq``, oldest first, at most ``limit``."""
    return (
        await ProposalComment.find({"proposal_id": proposal_id, "seq": {"$gt": after_seq}})
        .sort("+seq")
        .limit(limit)
        .to_list()
    )
