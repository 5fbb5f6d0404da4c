"""Truncated catch-up (issue #20): with the catch-up limit at 10 and 15 room events, joining
after 0 replays exactly events 1–10 and says ``truncated``; the HTTP events endpoint agrees;
``room:sync`` after a gap returns the gap. Runs its own web process with
``SAMOOH_ROOM_CATCH_UP_LIMIT=10`` against this session's services."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from app.proposals.service import proposal_service
from app.proposals.tally import Choice
from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.conftest import LiveStack, _spawn, _stop, free_port, tail
from tests.identity.conftest import Api
from tests.proposals.factories import open_proposal
from tests.rooms.conftest import RoomClient, club_of, person

pytestmark = pytest.mark.usefixtures("services")


@pytest.fixture(scope="module")
def small_catch_up(
    live_stack: LiveStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second web process whose catch-up limit is 10; its URL. (``live_stack`` first, so
    this session's topics and indexes exist.)"""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("catchup") / "web.log"
    env = {**os.environ, "SAMOOH_PUBLIC_URL": url, "SAMOOH_PORT": str(port),
           "SAMOOH_ROOM_CATCH_UP_LIMIT": "10"}  # fmt: skip
    proc = _spawn([sys.executable, "-m", "app", "--port", str(port)], log, env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"web exited with {proc.returncode}:\n{tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/api/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"web not ready:\n{tail(log)}")
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc)


@pytest.fixture
async def http10(small_catch_up: str) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(small_catch_up, session)


async def test_join_after_zero_replays_the_first_ten_of_fifteen(
    small_catch_up: str, http10: Api
) -> None:
    owner = await person("owner")
    club = await club_of(owner)
    room = club_room(str(club.id))
    assert await eventlog.head(room) == 0
    proposal = await open_proposal(club, owner.user_id)  # seq 1: proposal:created
    for n in range(14):  # seqs 2–15: vote:tally, the owner changing their mind each time
        await proposal_service.do_cast_vote(
            str(proposal.id), owner.user_id, Choice.YES if n % 2 == 0 else Choice.NO
        )
    assert await eventlog.head(room) == 15

    client = await RoomClient(small_catch_up, owner).connect()
    try:
        joined = await client.join(club, after_seq=0)
        assert joined["ok"] is True and joined["truncated"] is True and joined["seq"] == 15
        missed = joined["missed"]
        assert [m["data"]["seq"] for m in missed] == list(range(1, 11))
        assert [m["event"] for m in missed] == ["proposal:created"] + ["vote:tally"] * 9

        events_path = f"/api/v1/clubs/{club.id}/events"
        page = await http10.call(
            "GET", events_path, params={"after_seq": "0", "limit": "10"}, token=owner.token
        )
        assert page.status == 200, page.body
        assert page.body["truncated"] is True and page.body["seq"] == 15
        assert page.body["events"] == missed

        # A client that saw up to 10, then 12 (it noticed the gap at 11): sync returns 11–15.
        synced = await client.call("room:sync", {"club_id": str(club.id), "after_seq": 10})
        assert synced["truncated"] is False
        assert [m["data"]["seq"] for m in synced["missed"]] == [11, 12, 13, 14, 15]
        # Exactly at the limit is not truncated: after 5 there are 10 more.
        synced = await client.call("room:sync", {"club_id": str(club.id), "after_seq": 5})
        assert synced["truncated"] is False
        assert [m["data"]["seq"] for m in synced["missed"]] == list(range(6, 16))
        assert client.invalid == []
    finally:
        await client.close()
