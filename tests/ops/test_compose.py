"""The production description (docker-compose.yml and ops/haproxy/haproxy.cfg) holds together:
web replicas behind a WebSocket-aware, sticky load balancer, a MongoDB replica set whose members
the app lists, a Kafka cluster whose quorum and replication fit its brokers, Redis that keeps
its data, and every reference (services, volumes, mounted files) resolving.

``docker compose config`` validates the file too when the compose plugin is installed, and
``haproxy -c`` the load balancer's configuration when HAProxy is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import yaml

from tests.conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"
HAPROXY_CFG = ROOT / "ops" / "haproxy" / "haproxy.cfg"
APP_SERVICES = ("web", "worker", "replayer", "demo")


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return {str(k): str(v) for k, v in env.items()}


def test_web_replicas_sit_behind_a_sticky_websocket_aware_load_balancer() -> None:
    services = _compose()["services"]
    web, lb = services["web"], services["lb"]
    assert web["deploy"]["replicas"] >= 2
    assert "ports" not in web  # only the load balancer is published
    assert lb["ports"] == ["8000:8080"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in lb["volumes"]}
    assert mounts["./ops/haproxy/haproxy.cfg"] == "/usr/local/etc/haproxy/haproxy.cfg"
    assert "HAPROXY_COOKIE_KEY" in lb["environment"]
    cfg = HAPROXY_CFG.read_text()
    backend = cfg.split("backend web", 1)[1]
    # Every replica through Docker's DNS, health-checked on liveness.
    assert re.search(r"server-template web \d+-\d+ web:8000 check .*resolvers docker", backend)
    assert "nameserver dns 127.0.0.11:53" in cfg
    assert "option httpchk GET /api/health" in backend
    # Sticky: a cookie per replica, inserted by HAProxy; WebSocket tunnels stay open.
    assert re.search(r"cookie \S+ insert .*dynamic", backend)
    assert 'dynamic-cookie-key "${HAPROXY_COOKIE_KEY}"' in backend
    assert re.search(r"timeout tunnel\s+\d+[hm]", cfg)
    assert re.search(r"bind :8080\b", cfg)
    # The app trusts the one proxy hop the load balancer adds (X-Forwarded-For).
    assert "option forwardfor" in cfg
    assert _env(web)["SAMOOH_TRUSTED_PROXY_HOPS"].endswith(":-1}")


def test_the_app_reaches_every_member_of_the_mongo_replica_set_and_kafka_cluster() -> None:
    services = _compose()["services"]
    mongos = sorted(name for name in services if re.fullmatch(r"mongo\d+", name))
    kafkas = sorted(name for name in services if re.fullmatch(r"kafka\d+", name))
    assert len(mongos) >= 3 and len(kafkas) >= 3
    # The replica set: mongo1's health check initiates it with every member.
    initiate = services["mongo1"]["healthcheck"]["test"][-1]
    assert "rs.initiate({_id: 'rs0'" in initiate
    assert sorted(re.findall(r"host: '(mongo\d+):27017'", initiate)) == mongos
    for name in mongos:
        assert services[name]["command"] == ["mongod", "--replSet", "rs0", "--bind_ip_all"]
    # Kafka: one node id each, a quorum of all of them, each advertising its own name.
    envs = {name: _env(services[name]) for name in kafkas}
    ids = {name: env["KAFKA_NODE_ID"] for name, env in envs.items()}
    assert len(set(ids.values())) == len(kafkas)
    voters = {f"{ids[n]}@{n}:9093" for n in kafkas}
    for name, env in envs.items():
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{name}:9092"
        assert int(env["KAFKA_MIN_INSYNC_REPLICAS"]) < int(env["KAFKA_DEFAULT_REPLICATION_FACTOR"])
        assert int(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) <= len(kafkas)
    assert len({env["CLUSTER_ID"] for env in envs.values()}) == 1
    for name in APP_SERVICES:
        env = _env(services[name])
        url = env["MONGODB_URL"]
        assert url.startswith("mongodb://") and "replicaSet=rs0" in url
        hosts = url.removeprefix("mongodb://").split("/")[0].split(",")
        assert sorted(h.split(":")[0] for h in hosts) == mongos
        brokers = env["KAFKA_BOOTSTRAP_SERVERS"].split(",")
        assert sorted(b.split(":")[0] for b in brokers) == kafkas
        assert 1 < int(env["SAMOOH_KAFKA_REPLICATION_FACTOR"]) <= len(kafkas)
    assert "--appendonly" in services["redis"]["command"]  # sessions survive a restart
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_every_reference_in_the_compose_file_resolves() -> None:
    compose = _compose()
    services = compose["services"]
    volumes = set(compose["volumes"])
    for name, service in services.items():
        depends = service.get("depends_on", [])
        for other in depends if isinstance(depends, list) else depends.keys():
            assert other in services, (name, other)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in volumes, (name, source)
    if shutil.which("haproxy"):
        checked = subprocess.run(
            ["haproxy", "-c", "-f", str(HAPROXY_CFG)], capture_output=True, text=True,
            env={**os.environ, "HAPROXY_COOKIE_KEY": "test-only"}, timeout=30, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stdout + checked.stderr
    docker = shutil.which("docker")
    plugin = docker and subprocess.run(
        [docker, "compose", "version"], capture_output=True, timeout=30, check=False
    ).returncode == 0  # fmt: skip
    if docker and plugin:
        required = {"SAMOOH_SECRET_KEY": "x" * 32, "SAMOOH_JWT_PRIVATE_KEY": "pem",
                    "SMTP_URL": "smtp://mail:25", "SAMOOH_PAYMENT_PROVIDER": "razorpay",
                    "GRAFANA_PASSWORD": "x", "HAPROXY_COOKIE_KEY": "x"}  # fmt: skip
        checked = subprocess.run(
            [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"], cwd=ROOT,
            capture_output=True, text=True, env={**os.environ, **required}, timeout=60,
            check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr
