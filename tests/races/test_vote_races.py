"""Conflicting votes racing a close, through ``proposal_service`` (issue #20)."""

from __future__ import annotations

import asyncio

import pytest

from app.proposals.documents import CloseReason, Vote, VoteRecord
from app.proposals.errors import VotingClosed
from app.proposals.service import PROPOSAL_CLOSED, proposal_service
from app.proposals.tally import Choice
from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.clubs.factories import club_with_members
from tests.proposals.factories import open_proposal
from tests.races.harness import race, split

pytestmark = pytest.mark.usefixtures("services")


async def close_during_votes(delay: float = 0.0) -> tuple[int, int]:
    """One race on a fresh proposal, every invariant asserted; (accepted, refused) counts. The
    close starts ``delay`` seconds after the release, still among the votes in flight."""
    club, (owner, member) = await club_with_members(2)
    proposal = await open_proposal(club, owner)
    pid, room = str(proposal.id), club_room(str(club.id))
    before = await eventlog.head(room)
    choices = [c for pair in zip([Choice.YES] * 50, [Choice.NO] * 50, strict=True) for c in pair]
    votes = [(lambda c=choice: proposal_service.do_cast_vote(pid, member, c)) for choice in choices]

    async def close_a_moment_later() -> object:
        await asyncio.sleep(delay)
        return await proposal_service.do_close(pid, owner, CloseReason.EARLY)

    close = [close_a_moment_later]
    results = await race(votes[:50] + close + votes[50:])
    closed = results[50]
    assert not isinstance(closed, BaseException), closed
    accepted, refused = split(results[:50] + results[51:], VotingClosed, both=False)
    assert all(isinstance(r, VotingClosed) and r.code == "voting_closed" for r in refused)

    current = await Vote.find({"proposal_id": pid}).to_list()
    history = await VoteRecord.find({"proposal_id": pid}).sort("at", "_id").to_list()
    tally = closed.tally
    if accepted:
        assert len(current) == 1
        (vote,) = current
        assert (history[-1].user_id, history[-1].choice) == (member, vote.choice)
        yes, no = (1, 0) if vote.choice is Choice.YES else (0, 1)
        assert (tally.yes_count, tally.no_count) == (yes, no)
    else:
        assert current == [] and history == []
        assert (tally.yes_count, tally.no_count) == (0, 0)
    # The stored proposal still has the closed tally: no vote landed after the close.
    stored = await proposal_service.check_visible(pid, owner)
    assert stored.tally == tally
    names = [e.event for e in await eventlog.since(room, before, 1000)]
    assert names.count(PROPOSAL_CLOSED) == 1
    assert names[-1] == PROPOSAL_CLOSED  # every accepted vote's tally came before it
    return len(accepted), len(refused)


async def test_fifty_yes_and_fifty_no_racing_the_owners_close() -> None:
    """One member sends 50 yes and 50 no at once while the owner closes: exactly one current
    vote, the last history entry is that vote and the closed tally counts it, one
    ``proposal:closed``; accepted votes and ``voting_closed`` refusals both occurred (the race
    is run again on a fresh proposal, at most five times, until both did)."""
    # One event loop releases the barrier in a fixed order, so the close may win every time
    # on one machine: each retry lets it start a little later, still inside the votes' flight.
    seen: list[tuple[int, int]] = []
    for delay in (0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16):
        seen.append(await close_during_votes(delay))
        if all(seen[-1]):
            break
    assert all(seen[-1]), f"the races never saw both accepted and refused votes: {seen}"
