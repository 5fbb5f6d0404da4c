"""The Python client (clients/python/samooh_client) against the live stack: it logs in, follows
a club's room and the person's own log, receives their events in ``seq`` order, and after its
socket is cut reconnects by itself and catches up with ``after_seq``: every event once, in
order, the missed ones included."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from app.chat.service import chat_service
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from app.kyc.service import kyc_service
from tests.conftest import LiveStack
from tests.rooms.conftest import club_of, person

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))
from samooh_client import Room, SamoohClient, SamoohError

PASSWORD = "Room-member-2026"  # tests.rooms.conftest.person's


async def until(check: Any, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_the_python_client_follows_rooms_and_catches_up_after_a_cut(
    live_stack: LiveStack,
) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    admin = await person("admin")
    club = await club_of(asha, ravi)
    club_id = str(club.id)
    got: list[tuple[str, str, int]] = []

    def collect(event: str, data: dict[str, Any]) -> None:
        got.append((event, data["id"].rsplit(":", 1)[0], data["seq"]))

    async with SamoohClient(live_stack.url, reconnect_delay=3) as samooh:
        with pytest.raises(SamoohError) as refused:
            await samooh.log_in(ravi.email, "not the password")
        assert refused.value.status == 401
        await samooh.log_in(ravi.email, PASSWORD)
        me = await samooh.api("GET", "/api/v1/me")
        assert me["id"] == ravi.user_id
        await samooh.connect()
        room = await samooh.follow(Room.club(club_id), collect)
        mine = await samooh.follow(Room.person(), collect)
        assert mine.name == f"person:{ravi.user_id}"
        with pytest.raises(SamoohError) as outsider:
            await samooh.follow(Room.club("0" * 24), collect)
        assert outsider.value.code == "club_not_found"

        await chat_service.do_send(club_id, asha.user_id, body="one")
        await until(lambda: len(got) == 1)
        start = room.seq
        assert start is not None and got == [("chat:message", f"club:{club_id}", start)]

        # The network goes: the socket's transport closes; the client waits 3 s to reconnect.
        sio = samooh._sio
        assert sio is not None and sio.eio.ws is not None
        await sio.eio.ws.close()
        await until(lambda: not samooh.connected)
        for body in ("two", "three", "four"):
            await chat_service.do_send(club_id, asha.user_id, body=body)
        doc = KycDocument(user_id=ravi.user_id, kind=DocumentKind.PAN, file_id="f",
                          status=DocumentStatus.PENDING, number_last4="1234")  # fmt: skip
        await doc.insert()
        await kyc_service.do_decide(admin.user_id, str(doc.id), verify=True, reason=None)
        assert len(got) == 1  # nothing arrived while cut

        await until(lambda: samooh.connected, timeout=30)
        await until(lambda: len(got) == 5)
        chat = [g for g in got if g[0] == "chat:message"]
        assert [seq for _, _, seq in chat] == [start, start + 1, start + 2, start + 3]
        assert [g for g in got if g[0] == "kyc:status"] == [
            ("kyc:status", f"person:{ravi.user_id}", mine.seq)]  # fmt: skip
        assert room.catch_ups == 1 and mine.catch_ups == 1

        # Live again: the next event arrives once, after the replayed ones.
        await chat_service.do_send(club_id, asha.user_id, body="five")
        await until(lambda: len(got) == 6)
        await asyncio.sleep(0.5)
        assert got[-1] == ("chat:message", f"club:{club_id}", start + 4) and len(got) == 6
