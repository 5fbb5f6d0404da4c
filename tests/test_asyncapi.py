"""The event contract: ``/asyncapi.json`` describes every Socket.IO event from the pydantic
models, every server→client payload has ``id`` and ``ts``, and every reference resolves."""

from __future__ import annotations

from typing import Any

import aiohttp

from app.asyncapi import CLIENT_EVENTS, SERVER_EVENTS
from tests.conftest import LiveStack


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


async def test_the_asyncapi_document_is_served_next_to_openapi(live_stack: LiveStack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{live_stack.url}/asyncapi.json") as response:
            assert response.status == 200
            doc = await response.json()
        async with http.get(f"{live_stack.url}/openapi.json") as response:
            paths = (await response.json())["paths"]
    assert doc["asyncapi"] == "3.0.0"
    names = {m["name"] for m in doc["components"]["messages"].values()}
    for event in ("chat:message", "vote:tally", "proposal:closed", "notification:new",
                  "broadcast:message", "quote:tick", "quote:batch", "contribution:received",
                  "session:revoked", "presence:update"):  # fmt: skip
        assert event in names
    for spec in SERVER_EVENTS:
        schema = doc["components"]["schemas"][spec.payload.__name__]
        assert {"id", "ts"} <= set(schema["required"]), spec.name
        assert spec.name.split(":")[0] in {"chat", "proposal", "vote", "notification",
                                           "broadcast", "quote", "contribution", "session",
                                           "presence", "room", "alert", "order",
                                           "portfolio", "report", "kyc", "watchlist",
                                           "club", "crm", "chit", "campaign",
                                           "advisory", "dues"}  # fmt: skip
        if spec.sequenced:
            assert "seq" in schema["required"]
    for client in CLIENT_EVENTS:
        assert (
            f"receive{client.name.replace(':', '_').title().replace('_', '')}"
            in (doc["operations"])
        )
    for ref in _refs(doc):
        assert _resolve(doc, ref) is not None, ref
    assert "/api/v1/clubs/{club_id}/proposals" in paths
    assert "/api/v1/proposals/{proposal_id}/votes" in paths
