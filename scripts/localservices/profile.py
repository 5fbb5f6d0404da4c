"""Profiles (where data, pid files and ports live) and the spawning of service processes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from localservices.common import (
    HOST,
    PROFILE_LOCK_TIMEOUT_S,
    REPO,
    RUN_PORTS,
    cmdline,
    file_lock,
    pid_alive,
    say,
    tail,
    write_atomic,
)


@dataclass
class Profile:
    """Where a profile keeps its data, pid files and ports."""

    name: str
    # A test-profile instance of its own (``.local/test-<instance>``), so concurrent test runs
    # in one clone never share or stop each other's servers.
    instance: str | None = None
    datadir: Path = field(init=False)

    def __post_init__(self) -> None:
        folder = self.name if not self.instance else f"{self.name}-{self.instance}"
        self.datadir = REPO / ".local" / folder

    @property
    def fixed_ports(self) -> bool:
        """The run profile uses fixed ports; the test profile picks free ones."""
        return self.name == "run"

    def svc_dir(self, svc: str) -> Path:
        """Data folder of one service."""
        return self.datadir / svc

    def pid_file(self, svc: str) -> Path:
        """Pid file of one service."""
        return self.svc_dir(svc) / f"{svc}.pid"

    def log_file(self, svc: str) -> Path:
        """stdout/stderr of one service."""
        return self.svc_dir(svc) / f"{svc}.log"

    def logs(self, svc: str) -> list[Path]:
        """Logs of a service: its stdout/stderr, and for Kafka its log4j file."""
        extra = [self.svc_dir(svc) / "server.log"] if svc == "kafka" else []
        return [self.log_file(svc), *extra]

    def log_tails(self, svc: str) -> str:
        """The last lines of the service's logs, skipping a log holding only our header."""
        logs = self.logs(svc)
        shown = []
        for log in logs:
            try:
                with log.open("rb") as fh:
                    lines = len(fh.read(64 * 1024).splitlines())
            except OSError:
                lines = 0
            if lines > 1:  # more than the "=== started" line written by spawn()
                shown.append(tail(log))
        return "".join(shown) or tail(logs[0])

    @property
    def env_file(self) -> Path:
        """The export lines written by a successful `up`."""
        return self.datadir / "services.env"

    @property
    def ports_file(self) -> Path:
        """Ports chosen for this profile's services (test profile: picked at `up`)."""
        return self.datadir / "ports.json"

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Serialise `up`/`down` of this profile."""
        return file_lock(self.datadir / ".lock", f"profile {self.name}", PROFILE_LOCK_TIMEOUT_S)

    def ensure_datadir(self) -> None:
        """Create the data folder, and keep .local/ out of git."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        ignore = self.datadir.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# local service data written by scripts/services.py\n*\n")

    def ports(self) -> dict[str, int]:
        """The ports currently assigned (fixed for run, from ports.json for test)."""
        if self.fixed_ports:
            return dict(RUN_PORTS)
        try:
            return {k: int(v) for k, v in json.loads(self.ports_file.read_text()).items()}
        except (OSError, ValueError, AttributeError):
            return {}

    def save_ports(self, ports: dict[str, int]) -> None:
        """Remember the ports chosen for the test profile."""
        write_atomic(self.ports_file, json.dumps(ports, indent=2, sort_keys=True) + "\n")

    def marker(self, svc: str) -> str:
        """A path that appears on the service's command line (identifies our process)."""
        return str(
            self.svc_dir(svc)
            / {
                "mongodb": "data",
                "kafka": "server.properties",
                "redis": "redis.conf",
                "smtp": "mailbox",
            }[svc]
        )

    def running_pid(self, svc: str) -> int | None:
        """Pid of this profile's service when alive AND really ours (not a reused pid)."""
        try:
            pid = int(self.pid_file(svc).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if pid <= 1 or not pid_alive(pid):
            return None
        if f" {self.marker(svc)} " not in f" {cmdline(pid)} ":
            return None
        return pid


@dataclass
class Launched:
    """A service process this invocation (or an earlier one) started."""

    svc: str
    pid: int
    url: str
    port: int
    proc: subprocess.Popen[bytes] | None = None  # set when started by this invocation

    def exit_status(self) -> int | None:
        """The exit status if the process has ended, else None."""
        if self.proc is not None:
            return self.proc.poll()
        return None if pid_alive(self.pid) else -1


def spawn(profile: Profile, svc: str, cmd: list[str], port: int, url: str) -> Launched:
    """Start a detached service process logging to <datadir>/<svc>/<svc>.log."""
    log = profile.log_file(svc)
    if log.exists():  # keep the previous run's log, once
        os.replace(log, log.with_name(log.name + ".1"))
    header = f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n".encode()
    for other in profile.logs(svc)[1:]:  # logs the service appends to itself: mark the start
        with other.open("ab") as fh:
            fh.write(header)
    with log.open("ab") as fh:
        fh.write(header)
        fh.flush()
        proc = subprocess.Popen(
            cmd,
            cwd=profile.svc_dir(svc),
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    write_atomic(profile.pid_file(svc), f"{proc.pid}\n")
    say(f"{svc}: started pid {proc.pid} on {HOST}:{port}")
    return Launched(svc, proc.pid, url, port, proc)
