"""What must stay of a person's platform account when the CRM erases them on request, asked of
the other domains' services (never their repositories): club memberships and money paid into
clubs, chit subscriptions, crowdfunding investments and campaigns, personal advisory accounts,
KYC documents. Each comes with the reason it is kept (legal retention), said as a sentence.

The rule (docs/domain.md, CRM): the CRM erases the account too only when its own invitation
made it and nothing here holds it; otherwise the account stays and the erasure says why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.advisory.documents import AccountKind
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.campaigns.documents import InvestmentStatus
from app.campaigns.service import campaign_service
from app.chits.service import Actor as ChitActor
from app.chits.service import chit_service
from app.clubs.service import club_service
from app.kyc.service import kyc_service

# Why records of money and identity outlive an erasure request (the GDPR's art. 17(3)(b) and
# India's DPDP Act 2023 s.12(3) both yield to a legal duty to keep them).
MONEY_RULE = (
    "records of money that moved are kept for five years after it moved "
    "(Prevention of Money-laundering Act, 2002, s.12; SEBI's record-keeping rules)"
)
KYC_RULE = ("identity (KYC) records are kept for five years after the relationship ends "
            "(Prevention of Money-laundering Act, 2002, s.12)")  # fmt: skip
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LAPSED = (InvestmentStatus.EXPIRED, InvestmentStatus.FAILED)  # no money ever moved


@dataclass(frozen=True, slots=True)
class Retained:
    """One kind of thing that keeps the account: ``kind`` (a stable code), how many, and why
    it stays (a sentence)."""

    kind: str
    count: int
    reason: str


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


async def retained_of(user_id: str) -> list[Retained]:
    """Everything that keeps ``user_id``'s account from being erased, in a fixed order
    (empty: nothing does)."""
    out: list[Retained] = []
    pairs = await club_service.clubs_of(user_id)
    clubs = [c for c, _ in pairs if not c.personal]
    if clubs:
        out.append(Retained("club_membership", len(clubs), (
            f"a member of {_plural(len(clubs), 'club', 'clubs')}: the club's register and unit "
            "ledger name them until they leave and are paid out")))  # fmt: skip
    paid = await books_service.contributed_since(user_id, EPOCH)
    if paid > 0:
        out.append(Retained("club_money", 1, f"they paid money into clubs: {MONEY_RULE}"))
    subs = await chit_service.subscriptions_of(ChitActor(user_id))
    if subs:
        out.append(Retained("chit_subscription", len(subs), (
            f"{_plural(len(subs), 'chit subscription', 'chit subscriptions')}: "
            f"{MONEY_RULE}")))  # fmt: skip
    invested = [i for i in await campaign_service.investments_of(user_id)
                if i.status not in LAPSED]  # fmt: skip
    if invested:
        out.append(Retained("campaign_investment", len(invested), (
            f"{_plural(len(invested), 'crowdfunding investment', 'crowdfunding investments')}: "
            f"{MONEY_RULE}")))  # fmt: skip
    owned = await campaign_service.owned(user_id)
    if owned:
        out.append(Retained("campaign_owner", len(owned), (
            f"the owner of {_plural(len(owned), 'campaign', 'campaigns')} others may have "
            f"invested in: {MONEY_RULE}")))  # fmt: skip
    personal = [a for a in await advisory_service.accounts(user_id)
                if a.kind is AccountKind.PERSONAL and a.owner_id == user_id]  # fmt: skip
    if personal:
        out.append(Retained("advisory_account", len(personal), (
            f"{_plural(len(personal), 'personal account', 'personal accounts')} of investments: "
            f"{MONEY_RULE}")))  # fmt: skip
    documents = (await kyc_service.summary(user_id)).documents
    if documents:
        out.append(
            Retained(
                "kyc_documents",
                len(documents),
                (f"{_plural(len(documents), 'KYC document', 'KYC documents')}: {KYC_RULE}"),
            )
        )
    return out
