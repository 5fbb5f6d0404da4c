"""The demo room `make run` shows: a club with a short chat, an open proposal with its
discussion and an open rules proposal, made once."""

from __future__ import annotations

from app.books.documents import Contribution
from app.chat.documents import ChatMessage
from app.clubs.documents import Club
from app.proposals.documents import Proposal, ProposalComment, ProposalStatus
from devtools.demo_room import DEMO_CLUB, load_demo_room
from tests.rooms.conftest import person


async def test_the_demo_room_is_loaded_once(services: object) -> None:
    owner, admin = await person("demo-owner"), await person("demo-admin")
    assert await load_demo_room(owner.email, admin.email) == 1
    assert await load_demo_room(owner.email, admin.email) == 0
    club = await Club.find_one({"name": DEMO_CLUB, "created_by": owner.user_id})
    assert club is not None
    messages = await ChatMessage.find({"club_id": str(club.id)}).sort("+seq").to_list()
    assert [m.author_id for m in messages] == [owner.user_id, admin.user_id]
    proposals = await Proposal.find({"club_id": str(club.id)}).sort("+created_at").to_list()
    assert [(p.kind.value, p.symbol, p.status) for p in proposals] == [
        ("investment", "AAPL", ProposalStatus.OPEN),
        ("rules", None, ProposalStatus.OPEN)]  # fmt: skip
    # The investment proposal has its discussion; the club changes its rules by vote.
    thread = await ProposalComment.find({"proposal_id": str(proposals[0].id)}).to_list()
    assert [c.author_id for c in sorted(thread, key=lambda c: c.seq)] == [
        admin.user_id, owner.user_id]  # fmt: skip
    assert club.rules_changed_by.value == "vote" and proposals[1].rules == {"quorum_bps": 5000}
    # The owner's treasurer's desk has a manual contribution to approve, with its note.
    waiting = await Contribution.find({"club_id": str(club.id)}).to_list()
    assert [(c.user_id, c.status.value, c.note) for c in waiting] == [
        (admin.user_id, "pending_approval", "NEFT UTR 5512, paid on the 3rd")
    ]
