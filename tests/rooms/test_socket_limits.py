"""What a socket does with messages no handler can use: too long for chat, nested deeper than
JSON decoders allow, or not an event at all. Each is answered with an error, and the connection
stays usable (app/realtime/packets.py, app/sockets.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.rooms.conftest import RoomClient, club_of, person


async def raw_call(client: RoomClient, json_text: str) -> dict[str, Any]:
    """Send an EVENT packet whose JSON is ``json_text`` as is, and wait for its acknowledgement."""
    answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    ack_id = client.sio._generate_ack_id("/", lambda *args: answered.set_result(args))
    await client.sio.eio.send(f"2{ack_id}{json_text}")
    args = await asyncio.wait_for(answered, timeout=15)
    return dict(args[0])


async def test_a_chat_message_of_100_kb_is_refused_and_the_socket_stays(clients: Any) -> None:
    asha = await person("asha")
    club = await club_of(asha)
    a: RoomClient = await clients(asha)
    assert (await a.join(club))["ok"]
    huge = await a.call("chat:send", {"club_id": str(club.id), "body": "x" * 100_000})
    assert huge["ok"] is False and huge["error"]["code"] == "validation_error"
    sent = await a.call("chat:send", {"club_id": str(club.id), "body": "still here"})
    assert sent["ok"] is True and sent["message"]["body"] == "still here"
    assert sent["message"]["seq"] == 1  # the refused message took no place in the log


async def test_json_nested_too_deep_or_not_an_event_is_answered(clients: Any) -> None:
    asha = await person("asha")
    club = await club_of(asha)
    a: RoomClient = await clients(asha)
    deep = "[" * 20_000 + "]" * 20_000
    for text in (deep, '{"event": "chat:send"}', "[1, 2]", "[not json"):
        answer = await raw_call(a, text)
        assert answer["ok"] is False and answer["error"]["code"] == "malformed_message", text
    assert (await a.join(club))["ok"] is True  # the connection still works
