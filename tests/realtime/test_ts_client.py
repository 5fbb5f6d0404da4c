"""The TypeScript client package (clients/typescript, ``@samooh/client``):

- its own tests (``npm ci && npm test``: the catch-up protocol on hand-made sequences, the
  session rules on hand-made answers, the typed surface compiled against the generated types)
  pass on a fresh install;
- its generated types are what the server's AsyncAPI and OpenAPI documents give today
  (regenerated into a temporary folder and compared byte for byte), so they cannot drift;
- against the live stack, a Node script using the package logs in (a wrong password is a typed
  error, the refresh token rotates), changes its notification preferences and subscribes and
  unsubscribes a Web Push endpoint, follows a club's room, receives a message posted over HTTP,
  loses its connection, misses three messages, reconnects by itself and catches them up in
  ``seq`` order, once each, then gets the next one live.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import LiveStack
from tests.rooms.conftest import club_of, person

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "typescript"
PASSWORD = "Room-member-2026"  # tests.rooms.conftest.person's
NPM = shutil.which("npm") or "npm"
NODE = shutil.which("node") or "node"


# Every wait below runs in a thread: the session's event loop also runs the database driver's
# monitors, and blocking it for the length of an npm run made its next operation fail.


async def _run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (off the event loop); on failure the assertion shows its output."""
    done = await asyncio.to_thread(
        subprocess.run, argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False, env={**os.environ, "NO_UPDATE_NOTIFIER": "1", "npm_config_fund": "false",
                          "npm_config_audit": "false"},
    )  # fmt: skip
    assert done.returncode == 0, (
        f"{' '.join(argv)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done


@contextlib.asynccontextmanager
async def _package_lock(exclusive: bool) -> AsyncIterator[None]:
    """The suite's two parts may use the package at once: installing and building it (which
    rewrites ``dist/``) is exclusive, running a script from ``dist/`` is shared."""
    (ROOT / ".local").mkdir(exist_ok=True)
    with (ROOT / ".local" / "ts-client.lock").open("a") as held:
        await asyncio.to_thread(fcntl.flock, held, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


@pytest.fixture(scope="module")
async def installed() -> Path:
    """The package installed from its lock file (``npm ci``, which also builds ``dist/``) —
    again only when the lock file changed since the last install in this clone."""
    stamp = PACKAGE / "node_modules" / ".samooh-installed"
    lock = PACKAGE / "package-lock.json"
    async with _package_lock(exclusive=True):
        if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
            await _run([NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"], PACKAGE, 300)
            stamp.touch()
        else:
            await _run([NPM, "run", "build", "--silent"], PACKAGE, 120)
    return PACKAGE


async def test_the_package_tests_pass(installed: Path) -> None:
    async with _package_lock(exclusive=True):
        done = await _run([NPM, "test", "--silent"], installed, 300)
    assert "# fail 0" in done.stdout and "# pass " in done.stdout


async def test_the_generated_types_are_the_server_documents(
    installed: Path, tmp_path: Path
) -> None:
    contract, out = tmp_path / "contract", tmp_path / "generated"
    await _run([sys.executable, str(PACKAGE / "scripts" / "contract.py"), str(contract)], ROOT, 120)
    await _run([NODE, "scripts/generate.mjs", str(contract), str(out)], installed, 120)
    for name in ("events.ts", "rest.ts"):
        committed = (PACKAGE / "src" / "generated" / name).read_text()
        assert (out / name).read_text() == committed, (
            f"clients/typescript/src/generated/{name} is out of date: run `make client-types`"
        )


async def test_the_typescript_client_catches_up_after_a_cut(
    live_stack: LiveStack, installed: Path
) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi)
    ips = [f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}" for _ in range(2)]
    argument = json.dumps({
        "url": live_stack.url, "club_id": str(club.id), "ips": ips,
        "member": {"email": ravi.email, "password": PASSWORD},
        "other": {"email": asha.email, "password": PASSWORD},
    })  # fmt: skip
    async with _package_lock(exclusive=False):
        script = await asyncio.create_subprocess_exec(
            NODE, "test/live/catch-up.mjs", argument, cwd=installed,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        stdout, stderr = await asyncio.wait_for(script.communicate(), timeout=90)
    assert script.returncode == 0, stderr.decode()[-4000:]
    seen = json.loads(stdout.decode().strip().splitlines()[-1])

    assert seen["errors"] == {
        "login": {"code": "invalid_credentials", "status": 401},
        "club": {"code": "club_not_found", "status": 404},
    }
    assert seen["rotated"] is True and seen["me"] == ravi.email
    before, after = seen["preferences"]["before"], seen["preferences"]["after"]
    assert after == {**before, "sms": not before["sms"], "push": False}
    assert seen["preferences"]["read"] == after
    assert seen["push"] == {
        "key": True, "stored": ["mention"], "listed": 1, "remaining": 0,
        "again": {"code": "push_subscription_not_found", "status": 404},
    }  # fmt: skip

    start = seen["joined_at"]
    room = f"club:{club.id}"
    assert [(e["event"], e["seq"], e["id"], e["body"]) for e in seen["events"]] == [
        ("chat:message", start + n, f"{room}:{start + n}", body)
        for n, body in enumerate(["one", "two", "three", "four", "five"], start=1)
    ]
    assert seen["while_cut"] == 1  # the three posted during the cut came only with the catch-up
    assert seen["catch_ups"] == 1 and seen["last_seq"] == start + 5
    assert seen["states"][:3] == ["connecting", "connected", "reconnecting"]
    assert seen["states"][-2:] == ["connected", "idle"]  # back, then closed by the script
