"""Samooh's Python client for scripts and tests, on the same contract as the web client
(web/src/roomlog.ts): log in, follow logged rooms, receive their events in ``seq`` order once
each, and catch up after a reconnection with ``after_seq``.

    async with SamoohClient("http://127.0.0.1:8000") as samooh:
        await samooh.log_in("asha@example.com", "her password")
        await samooh.connect()
        await samooh.follow(Room.club(club_id), on_event)     # on_event(event, data)
        await samooh.follow(Room.person(), on_event)           # KYC, consultations, broadcasts

Every followed room is entered again on every (re)connection with the last ``seq`` applied;
what was missed comes back in the answer and is applied before anything newer. A hole in
``seq`` (a dropped packet) or a ``room:head`` above the last ``seq`` (the server's link to Redis
came back) asks for the rest the same way. The events and payloads are the AsyncAPI document's
(``GET /asyncapi.json``); REST calls go through ``SamoohClient.api``.
"""

from samooh_client.client import Follower, Room, SamoohClient, SamoohError

__all__ = ["Follower", "Room", "SamoohClient", "SamoohError"]
