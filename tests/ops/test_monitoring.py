"""Dashboards and alerts as code (issue #22): promtool checks and unit-tests the alert rules,
every metric the dashboard and the rules read exists, and the metrics added for them move."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from prometheus_client import REGISTRY

import app.payments.service  # noqa: F401  (registers the payments metrics)
from app.config import Settings
from app.errors import ServiceUnavailable
from app.metrics import (
    HTTP_REQUESTS,
    OUTBOX_OLDEST_PENDING_SECONDS,
    OUTBOX_PENDING,
    PAYOUTS,
)
from app.payments.documents import PaymentOutcome
from app.payments.service import payment_service
from app.payments.transfers import pay_out
from app.web import create_app
from streams.lag import consumer_lag
from tests.conftest import ROOT, free_port
from tests.payments.sandbox_client import SandboxClient

OPS = ROOT / "ops"
METRIC = re.compile(r"\bsamooh_[a-z_]+\b")


def test_promtool_checks_and_unit_tests_the_alert_rules() -> None:
    """ops/check.sh installs promtool (Debian's prometheus) when missing; it must pass."""
    done = subprocess.run(
        ["bash", str(OPS / "check.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "SUCCESS: 5 rules found" in output
    assert re.search(r"Unit Testing:\s+prometheus/alerts_test.yml\s+SUCCESS", output), output


def _exposed_names() -> set[str]:
    """Every sample name the process's metrics can expose (counters with ``_total``,
    histograms with their buckets), labelled children or not."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(
            family.type, [""]
        )
        names.update(family.name + suffix for suffix in suffixes)
    return names


def _used(path: Path) -> set[str]:
    if path.suffix == ".json":
        dashboard = json.loads(path.read_text())
        exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    else:
        rules = yaml.safe_load(path.read_text())
        exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    return {name for expr in exprs for name in METRIC.findall(expr)}


@pytest.mark.parametrize("path", ["grafana/samooh.json", "prometheus/alerts.yml"])
def test_every_metric_the_dashboard_and_the_alerts_read_exists(path: str) -> None:
    import agents.metrics  # noqa: F401  (the worker's gauges, as a worker registers them)

    used = _used(OPS / path)
    assert used, path
    assert used <= _exposed_names(), used - _exposed_names()


def test_the_dashboard_covers_what_the_issue_asks_for() -> None:
    used = _used(OPS / "grafana/samooh.json")
    for name in ("samooh_http_requests_total", "samooh_http_request_seconds_bucket",
                 "samooh_socket_connections", "samooh_kafka_consumer_lag",
                 "samooh_payment_outcomes_total", "samooh_payouts_total",
                 "samooh_payment_outbox_pending"):  # fmt: skip
        assert name in used, name
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = {v.split(":")[0] for s in ("prometheus", "grafana")
              for v in compose["services"][s]["volumes"]}  # fmt: skip
    assert {"./ops/prometheus/alerts.yml", "./ops/grafana/samooh.json"} <= mounts


async def test_consumer_lag_counts_what_the_group_has_not_committed(settings: Settings) -> None:
    topic = f"{settings.topic_prefix}.lag-probe-{uuid.uuid4().hex[:6]}"
    group = f"{settings.worker_id}-lag-probe"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, b"x", partition=n % 2)
    finally:
        await producer.stop()
    assert await consumer_lag(settings.kafka_bootstrap_servers, group, {topic: 2}) == {topic: 5}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group,
        enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        await consumer.commit({TopicPartition(topic, 0): 2, TopicPartition(topic, 1): 1})
    finally:
        await consumer.stop()
    # 3 records on partition 0 (2 done), 2 on partition 1 (1 done).
    assert await consumer_lag(settings.kafka_bootstrap_servers, group, {topic: 2}) == {topic: 2}


async def test_the_outbox_gauges_follow_pending_outcomes(services: object) -> None:
    stored = PaymentOutcome(
        record_id=f"probe:{uuid.uuid4().hex}", provider="probe", provider_event_id="e1",
        kind="payment.captured", payment_id=f"pay_{uuid.uuid4().hex[:12]}", pool_type="club",
        pool_id="p1", contribution_id="c1", amount=100, currency="INR",
        occurred_at=dt.datetime.now(dt.UTC),
        created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10),
    )  # fmt: skip
    await stored.insert()
    try:
        count, age = await payment_service.observe_outbox()
        assert count >= 1 and age >= 600
        assert OUTBOX_PENDING._value.get() == count
        assert OUTBOX_OLDEST_PENDING_SECONDS._value.get() == age
    finally:
        await stored.delete()
    count, age = await payment_service.observe_outbox()
    assert OUTBOX_PENDING._value.get() == count and age < 600


def _payouts(provider: str, result: str) -> float:
    return PAYOUTS.labels(provider, result)._value.get()


async def test_payouts_are_counted_by_result(
    settings: Settings, payment_sandbox: SandboxClient
) -> None:
    before = {r: _payouts("sandbox", r) for r in ("processed", "queued", "unavailable")}
    payout = await pay_out(
        key=f"probe-{uuid.uuid4().hex[:12]}", payee_ref="member-1", payee_name="Probe Member",
        vpa="probe@upi", amount_paise=12_345, currency="INR", purpose="payout",
        narration="Samooh probe", settings=settings,
    )  # fmt: skip
    assert _payouts("sandbox", payout.status) == before.get(payout.status, 0) + 1
    nowhere = settings.model_copy(update={"payment_sandbox_url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(ServiceUnavailable):
        await pay_out(
            key=f"probe-{uuid.uuid4().hex[:12]}", payee_ref="member-1", payee_name="Probe",
            vpa="probe@upi", amount_paise=100, currency="INR", purpose="payout",
            narration="Samooh probe", settings=nowhere,
        )  # fmt: skip
    assert _payouts("sandbox", "unavailable") == before["unavailable"] + 1


async def test_http_requests_are_counted_by_route_and_status(settings: Settings) -> None:
    client = create_app(settings).test_client()
    child = HTTP_REQUESTS.labels("GET", "unmatched", "404")
    before = child._value.get()
    for _ in range(3):
        await client.get(f"/api/v1/no-such-thing-{uuid.uuid4().hex[:6]}")
    assert child._value.get() == before + 3
    text = (await (await client.get("/metrics")).get_data()).decode()
    assert 'samooh_http_requests_total{method="GET",route="unmatched",status="404"}' in text
