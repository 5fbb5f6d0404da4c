"""What a person reads when a request is refused: a sentence naming the field, without
pydantic's jargon ("Value error, …"), the details kept for programs (issue #14, "what the trial
tripped on")."""

from __future__ import annotations

import uuid

from app.web import plain_message, validation_sentence
from tests.clubs.http import login
from tests.identity.conftest import Api


def test_pydantic_jargon_is_dropped_and_the_field_is_named() -> None:
    assert plain_message("Value error, give either an amount or full: true") == (
        "give either an amount or full: true"
    )
    errors = [{"loc": ["body", "valuation_date"], "msg": "Input should be a valid date"}]
    assert validation_sentence(errors) == "Valuation date: input should be a valid date."
    assert validation_sentence([{"loc": ["body"], "msg": "a title needs at least 3"}]) == (
        "A title needs at least 3."
    )
    assert validation_sentence([]) == "Some details are missing or not right."


async def test_a_refused_request_answers_a_sentence(api: Api) -> None:
    member = await login(api)
    club = await member.ok("POST", "/api/v1/clubs", {"name": "Plain Words Club"}, status=201)
    reply = await member.call(
        "POST", f"/api/v1/clubs/{club['id']}/proposals",
        {"kind": "general", "title": "Meet on Sunday", "side": "buy",
         "deadline": "2099-01-01T10:00:00+00:00"},
    )  # fmt: skip
    assert (reply.status, reply.code) == (422, "validation_error")
    message = reply.body["error"]["message"]
    assert message == "A general proposal has no side, symbol, quantity or prices."
    assert "Value error" not in str(reply.body)
    bad_date = await member.call(
        "POST", f"/api/v1/clubs/{club['id']}/valuations",
        {"valuation_date": "yesterday", "prices": {}}, key=str(uuid.uuid4()),
    )  # fmt: skip
    assert bad_date.status == 422
    assert bad_date.body["error"]["message"].startswith("Valuation date: ")
