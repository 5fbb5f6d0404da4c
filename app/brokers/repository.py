"""Every query of the brokers domain."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from app.brokers.documents import BrokerLink, PositionCheck, RefusedPostback

Session = AsyncClientSession | None


async def link_of(club_id: str, session: Session = None) -> BrokerLink | None:
    return await BrokerLink.find_one({"club_id": club_id}, session=session)


async def links(provider: str | None = None) -> list[BrokerLink]:
    """Every link (of ``provider``)."""
    query: dict[str, Any] = {} if provider is None else {"provider": provider}
    return await BrokerLink.find(query).to_list()


async def link_by_state(state: str) -> BrokerLink | None:
    return await BrokerLink.find_one({"login_state": state})


async def account_linked_elsewhere(provider: str, account_ref: str, club_id: str) -> bool:
    """Whether another club's link is to ``provider``'s account ``account_ref``."""
    found = await BrokerLink.find_one(
        {"provider": provider, "account_ref": account_ref, "club_id": {"$ne": club_id}}
    )
    return found is not None


async def link_by_account(provider: str, account_ref: str) -> BrokerLink | None:
    return await BrokerLink.find_one({"provider": provider, "account_ref": account_ref})


async def replace_link(link: BrokerLink, session: Session) -> None:
    """Insert the club's link, replacing the one it had."""
    await BrokerLink.get_pymongo_collection().delete_many(
        {"club_id": link.club_id}, session=session
    )
    await link.insert(session=session)


async def update_link(
    club_id: str,
    fields: dict[str, Any],
    session: Session = None,
    guard: dict[str, Any] | None = None,
) -> BrokerLink | None:
    """Set ``fields`` on the club's link if it matches ``guard``; the link after, or None."""
    raw = await BrokerLink.get_pymongo_collection().find_one_and_update(
        {"club_id": club_id, **(guard or {})},
        {"$set": fields},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return None if raw is None else BrokerLink.model_validate(raw)


async def delete_link(club_id: str, session: Session) -> bool:
    result = await BrokerLink.get_pymongo_collection().delete_one(
        {"club_id": club_id}, session=session
    )
    return result.deleted_count == 1


async def record_refused(item: RefusedPostback) -> None:
    await item.insert()


async def refused_postbacks(
    limit: int = 50, account_ref: str | None = None
) -> list[RefusedPostback]:
    """The newest refused postbacks (naming ``account_ref`` when given)."""
    query: dict[str, Any] = {} if account_ref is None else {"account_ref": account_ref}
    return await RefusedPostback.find(query).sort("-at").limit(limit).to_list()


async def save_position_check(check: PositionCheck) -> None:
    """Store the club's check of that day, replacing an earlier one of the same day."""
    doc = check.model_dump(exclude={"id", "revision_id"})
    await PositionCheck.get_pymongo_collection().update_one(
        {"club_id": check.club_id, "check_date": check.check_date}, {"$set": doc}, upsert=True
    )


async def latest_position_check(club_id: str) -> PositionCheck | None:
    return await PositionCheck.find({"club_id": club_id}).sort("-check_date").first_or_none()
