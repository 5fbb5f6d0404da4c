"""Bad configuration fails fast with a message naming the service, never a hang."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, free_port

# A cold start under a loaded machine (four pytest processes, two live stacks, coverage, on two
# cores) has taken over 150 s; the point of these tests is that it ends, not how fast.
pytestmark = pytest.mark.timeout(400)


def _run(argv: list[str], **overrides: str) -> tuple[int, str, float]:
    env = {**os.environ, "SAMOOH_SERVICE_TIMEOUT_SECONDS": "2", **overrides}
    started = time.monotonic()
    done = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize(
    ("variable", "value", "service"),
    [
        ("MONGODB_URL", "mongodb://127.0.0.1:{port}/?directConnection=true", "MongoDB"),
        ("REDIS_URL", "redis://127.0.0.1:{port}/0", "Redis"),
        ("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:{port}", "Kafka"),
    ],
)
def test_web_server_exits_naming_the_unreachable_service(
    variable: str, value: str, service: str
) -> None:
    dead = value.format(port=free_port())
    # No hang: _run gives the process 300 s and raises if it is still running then; how long a
    # cold start takes on a loaded machine (the whole suite runs four pytest processes, two
    # live stacks and coverage on two cores) is not what this test is about.
    code, output, _ = _run(
        [sys.executable, "-m", "app", "--port", str(free_port())], **{variable: dead}
    )
    assert code == 2, output
    assert f"start-up failed: Lifespan failure in startup. '{service} at" in output


def test_worker_exits_naming_kafka() -> None:
    dead = f"127.0.0.1:{free_port()}"
    code, output, _ = _run([sys.executable, "-m", "agents"], KAFKA_BOOTSTRAP_SERVERS=dead)
    assert code == 2, output
    assert f"samooh worker: Kafka at {dead} is unreachable" in output


def test_invalid_setting_is_refused_before_anything_starts() -> None:
    code, output, _ = _run(
        [sys.executable, "-m", "devtools.replayer"], SAMOOH_REPLAY_TICKS_PER_DAY="2"
    )
    assert code != 0
    assert "samooh replayer: invalid setting SAMOOH_REPLAY_TICKS_PER_DAY" in output


@pytest.mark.parametrize(
    ("argv", "variable", "value", "said"),
    [
        (["-m", "app"], "SAMOOH_PORT", "99999", "samooh web: invalid setting SAMOOH_PORT"),
        (["-m", "agents"], "SAMOOH_LOG_LEVEL", "LOUD",
         "samooh worker: invalid setting SAMOOH_LOG_LEVEL"),
        (["-m", "devtools.demo"], "SAMOOH_SERVICE_TIMEOUT_SECONDS", "0",
         "samooh demo: invalid setting SAMOOH_SERVICE_TIMEOUT_SECONDS"),
    ],
)  # fmt: skip
def test_invalid_settings_are_one_line_not_a_traceback(
    argv: list[str], variable: str, value: str, said: str
) -> None:
    code, output, _ = _run([sys.executable, *argv], **{variable: value})
    assert code != 0
    assert said in output
    assert "Traceback" not in output


def test_replayer_and_demo_name_the_unreachable_service_in_one_line() -> None:
    dead_kafka = f"127.0.0.1:{free_port()}"
    code, output, _ = _run([sys.executable, "-m", "devtools.replayer"],
                           KAFKA_BOOTSTRAP_SERVERS=dead_kafka)  # fmt: skip
    assert code != 0 and f"samooh replayer: Kafka at {dead_kafka} is unreachable" in output
    assert "Traceback" not in output
    dead_mongo = f"mongodb://127.0.0.1:{free_port()}/?directConnection=true"
    code, output, _ = _run([sys.executable, "-m", "devtools.demo"], MONGODB_URL=dead_mongo)
    assert code != 0 and "samooh demo: MongoDB at" in output and "Traceback" not in output
