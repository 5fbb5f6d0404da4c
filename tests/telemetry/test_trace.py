"""One contribution is one trace: the member's HTTP request creating the checkout → the
provider's webhook → the payments topic → the payments agent → the ledger → the socket event
(issue #22). The web server and the worker run as their own processes and export over OTLP to
a local receiver; the test reads the spans back from it."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import aiohttp
import socketio
from prometheus_client.parser import text_string_to_metric_families

from tests.campaigns.factories import live_campaign
from tests.clubs.http import Member, received
from tests.identity.conftest import Api, provision
from tests.payments.sandbox_client import SandboxClient
from tests.telemetry.conftest import TracedStack
from tests.telemetry.otlp_receiver import ReceivedSpan


async def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """One Prometheus scrape: (sample name, labels) → value."""
    async with aiohttp.ClientSession() as http, http.get(url) as reply:
        text = await reply.text()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    chain = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span)
    return chain


async def test_a_contribution_paid_through_the_sandbox_is_one_trace(
    traced_stack: TracedStack, traced_sandbox: SandboxClient
) -> None:
    async with aiohttp.ClientSession() as http:
        api = Api(traced_stack.url, http)
        account = await provision(tag="traced")
        owner = Member(api, account, (await api.tokens(account))["access_token"])
        club = await owner.ok("POST", "/api/v1/clubs", {"name": "Traced Club"}, status=201)
        # The owner watches the club's room: the last hop of the trace reaches a browser.
        sio = socketio.AsyncClient(reconnection=False)
        arrived: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        sio.on("contribution:received", arrived.put_nowait)
        await sio.connect(traced_stack.url, transports=["websocket"], auth={"token": owner.token})
        await sio.call("room:join", {"club_id": club["id"]}, timeout=15)
        web_metrics = await scrape(f"{traced_stack.url}/metrics")
        assert web_metrics[("samooh_socket_connections", frozenset())] == 1
        contribution = await owner.ok(
            "POST", f"/api/v1/clubs/{club['id']}/contributions",
            {"amount": "1234.50", "method": "online"}, status=201, key=str(uuid.uuid4()),
        )  # fmt: skip
        paid_at = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        await traced_sandbox.pay(contribution["order_id"], paid_at=paid_at)
        await received(owner, club["id"], [contribution["id"]])
        event = await asyncio.wait_for(arrived.get(), 15)
        assert event["contribution_id"] == contribution["id"]
        await sio.disconnect()

    receiver = traced_stack.receiver
    topic = f"{traced_stack.topic_prefix}.payments.events.v1"

    def complete(spans: list[ReceivedSpan]) -> bool:
        # the worker's last span and the web's publish: the two processes export separately
        names = {s.name for s in spans}
        return {"socket emit contribution:received", "publish payment outcome"} <= names

    spans = await receiver.wait_for(complete)
    by_id = {s.span_id: s for s in spans}

    # The click: the member's request that created the checkout, served by the web process.
    [click] = [
        s for s in spans
        if s.kind == "server" and s.attributes.get("http.route", s.name).endswith("/contributions")
        and s.attributes.get("http.request.method", s.attributes.get("http.method")) == "POST"
    ]  # fmt: skip
    assert click.service == "samooh-web" and click.parent_id == ""
    trace = [s for s in spans if s.trace_id == click.trace_id]
    names = {(s.service, s.name) for s in trace}

    # It asked the provider for an order (aiohttp client span under the request).
    assert any(s.kind == "client" and s.service == "samooh-web"
               and s.attributes.get("http.request.method", s.attributes.get("http.method"))
               == "POST" and click in _ancestors(s, by_id) for s in trace)  # fmt: skip

    # The webhook delivery is its own HTTP request (the provider's), linked to the publish
    # that continues the checkout's trace.
    [publish] = [s for s in trace if s.name == "publish payment outcome"]
    assert publish.service == "samooh-web" and publish.parent_id == click.span_id
    [(link_trace, link_span)] = publish.links
    webhook = by_id[link_span]
    assert webhook.kind == "server" and webhook.trace_id == link_trace != click.trace_id
    assert "/api/v1/webhooks/" in str(
        webhook.attributes.get("http.route") or webhook.attributes.get("url.path")
        or webhook.attributes.get("http.target") or webhook.name
    )  # fmt: skip

    # → the topic: a PRODUCER span whose context rode in the record's headers …
    [send] = [s for s in trace if s.kind == "producer" and s.name == f"send {topic}"]
    assert send.parent_id == publish.span_id
    # … → the agent: a CONSUMER span in the worker, child of the send.
    [consume] = [s for s in trace if s.kind == "consumer"]
    assert consume.service == "samooh-worker" and consume.parent_id == send.span_id
    assert consume.name == "apply payment event"

    # → the ledger: the journal entry written by the agent, inside its span.
    ledger_writes = [
        s for s in trace
        if s.service == "samooh-worker" and consume in _ancestors(s, by_id)
        and s.attributes.get("db.collection.name", s.attributes.get("db.mongodb.collection"))
        == "journal_entries" and s.name.endswith(("insert", "update"))
    ]  # fmt: skip
    assert ledger_writes, sorted(names)
    # → the socket: the room event emitted after the commit, still in the same trace.
    [emit] = [s for s in trace if s.name == "socket emit contribution:received"]
    assert emit.service == "samooh-worker" and consume in _ancestors(emit, by_id)
    # Redis carried the emit to the web processes (the instrumented PUBLISH under it).
    assert any(s.service == "samooh-worker" and emit in _ancestors(s, by_id) for s in trace)

    # The metrics the dashboards read moved: the web server counted the published outcome and
    # the webhook; the worker measured its lag (all consumed) and an empty outbox.
    web_metrics = await scrape(f"{traced_stack.url}/metrics")
    captured = frozenset({("provider", "sandbox"), ("kind", "payment.captured")})
    assert web_metrics[("samooh_payment_outcomes_total", captured)] >= 1
    accepted = frozenset({("provider", "sandbox"), ("result", "accepted")})
    assert web_metrics[("samooh_payment_webhooks_total", accepted)] >= 1
    agent = frozenset({("agent", "agents.payments.apply_payments"), ("topic", topic)})

    async def worker_measured() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:
            found = await scrape(traced_stack.worker_metrics_url)
            if found.get(("samooh_kafka_consumer_lag", agent)) == 0:
                return found
            assert loop.time() < deadline, found.get(("samooh_kafka_consumer_lag", agent))
            await asyncio.sleep(0.5)

    worker_metrics = await worker_measured()
    assert ("samooh_payment_outbox_pending", frozenset()) in worker_metrics


async def test_a_pledge_paid_through_the_sandbox_continues_into_the_campaigns_agent(
    traced_stack: TracedStack, traced_sandbox: SandboxClient
) -> None:
    campaign = await live_campaign()
    async with aiohttp.ClientSession() as http:
        api = Api(traced_stack.url, http)
        account = await provision(tag="traced-investor")
        investor = Member(api, account, (await api.tokens(account))["access_token"])
        pledge = await investor.ok(
            "POST", f"/api/v1/campaigns/{campaign.id}/invest", {"amount": "1500.00"},
            status=201, key=str(uuid.uuid4()),
        )  # fmt: skip
        await traced_sandbox.pay(pledge["order_id"])

    topic = f"{traced_stack.topic_prefix}.payments.events.v1"

    def applied(spans: list[ReceivedSpan]) -> bool:
        # The worker's and the web server's spans are exported separately, each in its own
        # batches: wait for the consumer span and for its parent, whichever comes last.
        by_id = {s.span_id: s for s in spans}
        return any(
            s.name == "apply campaign payment event"
            and any(a.kind == "server" and a.parent_id == "" for a in _ancestors(s, by_id))
            for s in spans
        )

    spans = await traced_stack.receiver.wait_for(applied)
    by_id = {s.span_id: s for s in spans}
    [consume] = [s for s in spans if s.name == "apply campaign payment event"]
    assert consume.kind == "consumer" and consume.service == "samooh-worker"
    send = by_id[consume.parent_id]  # the trace came through the record's headers
    assert send.kind == "producer" and send.name == f"send {topic}"
    [click] = [
        s for s in spans
        if s.trace_id == consume.trace_id and s.kind == "server" and s.parent_id == ""
    ]  # fmt: skip
    assert click.service == "samooh-web" and click in _ancestors(consume, by_id)
    # The other payment agents saw the record and left no span of their own in its trace.
    in_trace = [s for s in spans if s.trace_id == consume.trace_id and s.kind == "consumer"]
    assert in_trace == [consume]
    # The investment was written inside the agent's span.
    assert any(
        consume in _ancestors(s, by_id)
        and s.attributes.get("db.collection.name", s.attributes.get("db.mongodb.collection"))
        == "campaign_investments"
        for s in spans
    )
