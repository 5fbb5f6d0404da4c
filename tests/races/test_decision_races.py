"""Approve and reject of one manual contribution at once, through the HTTP API of the live
web server and its payments worker (issue #20): one decision wins, every other answers 409
``contribution_state``, and the books match the winner (no money recorded for a rejected
contribution)."""

from __future__ import annotations

import uuid

import pytest

from app.books.documents import Contribution, ContributionStatus
from app.ledger.documents import JournalEntry
from app.payments.documents import PaymentOutcome
from tests.identity.conftest import Api, Reply
from tests.races.harness import eventually, race
from tests.rooms.conftest import club_of, person

pytestmark = pytest.mark.usefixtures("services")


async def test_approve_and_reject_at_once_one_decision_wins(http: Api) -> None:
    owner, member = await person("owner"), await person("member")
    club = await club_of(owner, member)
    club_id = str(club.id)
    made = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/contributions",
        json={"amount": "66.00", "method": "manual", "note": "cash at the meeting"},
        token=member.token, headers={"Idempotency-Key": f"c-{uuid.uuid4().hex}"},
    )  # fmt: skip
    assert made.status == 201, made.body
    contribution_id = made.body["id"]
    path = f"/api/v1/clubs/{club_id}/contributions/{contribution_id}/decision"

    async def decide(approve: bool) -> Reply:
        body = {"approve": True} if approve else {"approve": False, "reason": "no receipt"}
        return await http.call("POST", path, json=body, token=owner.token,
                         headers={"Idempotency-Key": f"d-{uuid.uuid4().hex}"})  # fmt: skip

    calls = [lambda: decide(True)] * 3 + [lambda: decide(False)] * 3
    replies: list[Reply] = await race(calls)  # type: ignore[arg-type]
    assert all(isinstance(r, Reply) for r in replies), replies
    won = [r for r in replies if r.status == 200]
    lost = [r for r in replies if (r.status, r.code) == (409, "contribution_state")]
    assert len(won) == 1, [(r.status, r.body) for r in replies]
    assert len(lost) == 5, [(r.status, r.body) for r in replies]
    winner = won[0].body["status"]
    assert winner in ("approved", "rejected")

    async def entries() -> list[JournalEntry]:
        return await JournalEntry.find({"pool_id": club_id}).to_list()

    if winner == "approved":  # the worker records the money: Dr cash / Cr unallocated 66

        async def received() -> bool:
            found = await Contribution.get(contribution_id)
            return found is not None and found.status is ContributionStatus.RECEIVED

        await eventually(received, timeout=30)
        [entry] = await entries()
        assert entry.kind == "contribution_received"
        assert sorted((x.account, x.amount) for x in entry.lines) == sorted(
            [("assets:cash", 6_600), ("liabilities:unallocated_contributions", -6_600)]
        )
    else:  # nothing was ever put in the payments outbox, so nothing can be booked later
        found = await Contribution.get(contribution_id)
        assert found is not None and found.status is ContributionStatus.REJECTED
        assert await PaymentOutcome.find({"contribution_id": contribution_id}).count() == 0
        assert await entries() == []
    # A later decision either way is refused and changes nothing.
    again = await decide(winner != "approved")
    assert (again.status, again.code) == (409, "contribution_state")
