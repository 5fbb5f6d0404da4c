"""MongoDB wire protocol: SecantusDB (PyPI, GPL), installed into its own virtualenv in the
user cache (never the app's venv), advertised as the one-node replica set ``secantus``."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from localservices.common import (
    HOST,
    INSTALL_TIMEOUT_S,
    cache_root,
    file_lock,
    marker_ok,
    run_logged,
    say,
    write_marker,
)
from localservices.profile import Launched, Profile, spawn

SECANTUS_VERSION = "0.7.0b3"
# SecantusDB advertises itself as this one-node replica set (see `secantusd-py --help`).
SECANTUS_REPLICA_SET = "secantus"


def secantus_home() -> Path:
    """Cache folder of the SecantusDB install."""
    return cache_root() / f"secantusdb-{SECANTUS_VERSION}"


def secantus_bin() -> Path:
    """The secantusd-py launcher inside SecantusDB's own virtualenv."""
    return secantus_home() / "venv" / "bin" / "secantusd-py"


def install_secantus() -> None:
    """pip-install secantusdb into its own venv in the cache (not the app's venv: GPL)."""
    home = secantus_home()
    venv_python = home / "venv" / "bin" / "python"
    if marker_ok(home, secantus_bin(), venv_python):
        return
    with file_lock(
        cache_root() / f".secantusdb-{SECANTUS_VERSION}.lock",
        "SecantusDB install",
        INSTALL_TIMEOUT_S,
    ):
        if marker_ok(home, secantus_bin(), venv_python):
            return
        started = time.monotonic()
        say(f"installing SecantusDB {SECANTUS_VERSION} into {home}/venv ...")
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        log = home / "install.log"
        pip_args = [
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"secantusdb=={SECANTUS_VERSION}",
        ]
        if importlib.util.find_spec("pip") is not None:
            # ~7 s faster than seeding the new venv with its own pip (ensurepip)
            run_logged(
                [sys.executable, "-m", "venv", "--without-pip", str(home / "venv")],
                log,
                "SecantusDB venv",
            )
            run_logged(
                [sys.executable, "-m", "pip", "--python", str(venv_python), *pip_args],
                log,
                "SecantusDB pip install",
            )
        else:
            run_logged([sys.executable, "-m", "venv", str(home / "venv")], log, "SecantusDB venv")
            run_logged([str(venv_python), "-m", "pip", *pip_args], log, "SecantusDB pip install")
        run_logged([str(secantus_bin()), "--help"], log, "SecantusDB self-check", timeout=60)
        write_marker(home, package=f"secantusdb=={SECANTUS_VERSION}")
        say(f"SecantusDB installed in {time.monotonic() - started:.1f} s")


def url(ports: dict[str, int]) -> str:
    """The connection URL of the locally started SecantusDB."""
    # replicaSet=: the driver sees the same replica-set topology as in production (and
    # checks the set name). retryWrites=false: with retryable writes SecantusDB slows
    # to ~100 writes/s after ~10k writes in one process (it re-sorts its records of
    # retryable writes on every write).
    return (
        f"mongodb://{HOST}:{ports['mongodb']}/?replicaSet={SECANTUS_REPLICA_SET}&retryWrites=false"
    )


def toml_str(value: str) -> str:
    """A TOML basic string."""
    return json.dumps(value)


def start_mongodb(profile: Profile, ports: dict[str, int]) -> Launched:
    """Start SecantusDB on the profile's MongoDB port."""
    d = profile.svc_dir("mongodb")
    data = d / "data"
    data.mkdir(parents=True, exist_ok=True)
    port = ports["mongodb"]
    # An explicit --config stops secantusd-py auto-discovering ./, ~/.secantus or /etc files.
    config = d / "secantusd.toml"
    config.write_text(
        "# written by scripts/services.py\n[server]\n"
        f"host = {toml_str(HOST)}\nport = {port}\nstorage_path = {toml_str(str(data))}\n"
    )
    cmd = [
        str(secantus_bin()),
        "--config",
        str(config),
        "--host",
        HOST,
        "--port",
        str(port),
        "--storage-path",
        str(data),
        # Without it SecantusDB flushes its log in the background (~0.1-0.2 s) and a kill -9
        # right after an acknowledgement loses acknowledged writes, committed transactions
        # included (measured by tests/db/test_guarantees.py); with it, nothing was lost and
        # throughput did not drop measurably.
        "--sync-on-commit",
    ]
    return spawn(profile, "mongodb", cmd, port, url(ports))


async def probe_mongodb(url: str, timeout: float) -> None:
    """`hello` must report a writable primary, then `ping` must succeed."""
    from pymongo import AsyncMongoClient

    ms = max(100, int(timeout * 1000))
    client: Any = AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=ms,
        connectTimeoutMS=ms,
        socketTimeoutMS=ms,
        appname="samooh-services",
    )
    try:
        hello = await client.admin.command("hello")
        if not hello.get("isWritablePrimary"):
            raise RuntimeError("server is not a writable primary yet")
        await client.admin.command("ping")
    finally:
        await client.close()
