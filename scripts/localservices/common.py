"""Shared helpers of the local services: constants, errors, output, locks, processes, ports.

Only the standard library: the probes' client libraries are imported by the service modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"

SERVICES = ("mongodb", "kafka", "redis", "smtp")
ENV_VARS = {
    "mongodb": "MONGODB_URL",
    "kafka": "KAFKA_BOOTSTRAP_SERVERS",
    "redis": "REDIS_URL",
    "smtp": "SMTP_URL",
}
# Exported with SMTP_URL when the local mail server runs: where it stores what it receives.
MAILBOX_ENV_VAR = "SAMOOH_DEV_MAILBOX_DIR"
RUN_PORTS = {
    "mongodb": 27018,
    "kafka": 19092,
    "kafka_controller": 19093,
    "redis": 6380,
    "smtp": 2525,
}
READY_DEADLINE_S = {"mongodb": 30.0, "kafka": 60.0, "redis": 10.0, "smtp": 15.0}
STOP_GRACE_S = 15.0
LOG_TAIL_LINES = 30

INSTALL_TIMEOUT_S = 900.0
PROFILE_LOCK_TIMEOUT_S = 1200.0


class ServiceError(Exception):
    """A failure to report to the user (stderr, exit status 1)."""


# ---------------------------------------------------------------------------------------
# small helpers


def say(message: str) -> None:
    """Print a progress message on stderr (stdout is reserved for export lines)."""
    print(f"services: {message}", file=sys.stderr, flush=True)


def redact(url: str) -> str:
    """Hide any user:password part of a URL before it is shown."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def shell_quote(value: str) -> str:
    """Single-quote a value for a POSIX shell, always (export NAME='value')."""
    return "'" + value.replace("'", "'\"'\"'") + "'"


def tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last lines of a log file, indented, or a note when there is none."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return f"  ({path} does not exist)\n"
    last = text.splitlines()[-lines:]
    if not last:
        return f"  ({path} is empty)\n"
    return f"  --- last {len(last)} lines of {path} ---\n" + "".join(
        f"  | {line[:300]}{' ...' if len(line) > 300 else ''}\n" for line in last
    )


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a file through a temporary file and rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    os.replace(tmp, path)


def cache_root() -> Path:
    """The per-user download cache shared by every clone: $XDG_CACHE_HOME/samooh."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "samooh"


@contextlib.contextmanager
def file_lock(path: Path, what: str, timeout: float) -> Iterator[None]:
    """Hold an exclusive flock on `path` (waiting at most `timeout` seconds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        deadline = time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told:
                    say(f"waiting for another services.py ({what}) to finish ...")
                    told = True
                if time.monotonic() > deadline:
                    raise ServiceError(
                        f"gave up after {timeout:.0f} s waiting for the lock {path} ({what})"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_logged(
    cmd: list[str],
    log: Path,
    what: str,
    timeout: float = INSTALL_TIMEOUT_S,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run an install/setup command, appending its output to `log`; raise on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ServiceError(
                f"{what}: `{cmd[0]}` ran longer than {timeout:.0f} s\n" + tail(log)
            ) from None
        except OSError as exc:
            raise ServiceError(f"{what}: cannot run `{cmd[0]}`: {exc}") from None
    if proc.returncode != 0:
        raise ServiceError(
            f"{what}: `{' '.join(cmd[:3])} ...` exited with status {proc.returncode}\n" + tail(log)
        )


def require_tool(name: str, hint: str) -> str:
    """Return the full path of a program on PATH, or fail naming the package to install."""
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"`{name}` is not on PATH; {hint}")
    return path


# ---------------------------------------------------------------------------------------
# processes and ports


def pid_alive(pid: int) -> bool:
    """True when the process exists and is not a zombie (an exited, unreaped child)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def cmdline(pid: int) -> str:
    """The command line of a process as one space-joined string ('' if unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def stop_processes(pids: dict[str, int], grace: float = STOP_GRACE_S) -> None:
    """SIGTERM each process group, wait up to `grace` seconds, then SIGKILL leftovers."""

    def signal_group(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if os.getpgid(pid) == pid:  # started with start_new_session: leads its group
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    for pid in pids.values():
        signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids.values()):
        time.sleep(0.1)
    for name, pid in pids.items():
        if pid_alive(pid):
            say(f"{name} (pid {pid}) ignored SIGTERM for {grace:.0f} s: sending SIGKILL")
            signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids.values()):
        time.sleep(0.1)


def port_in_use(port: int) -> bool:
    """True when something already listens on 127.0.0.1:`port` (or the wildcard)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def port_holder(port: int) -> str:
    """Best effort: describe the process listening on `port` (via /proc), or ''."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(cols[9])
    wanted = {f"socket:[{inode}]" for inode in inodes}
    if not wanted:
        return ""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        return f"pid {proc.name}: {cmdline(int(proc.name))[:160]}"
    return ""


def free_ports(count: int) -> list[int]:
    """Ask the kernel for `count` distinct free loopback ports (bind to port 0)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((HOST, 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


# ---------------------------------------------------------------------------------------
# install markers (an install is complete when its marker exists: written last)


def marker_ok(home: Path, *must_exist: Path) -> bool:
    """True when an install finished (marker written last) and its key files exist."""
    return (home / ".complete").is_file() and all(p.exists() for p in must_exist)


def write_marker(home: Path, **details: str) -> None:
    """Record that an install completed."""
    info = {"completed": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **details}
    write_atomic(home / ".complete", json.dumps(info, indent=2) + "\n")


# ---------------------------------------------------------------------------------------
# probes


def quiet_client_logs() -> None:
    """Keep client libraries' connection-refused chatter off stderr while polling."""
    for name in ("aiokafka", "kafka", "pymongo", "redis", "asyncio"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def describe_exc(exc: BaseException) -> str:
    """A one-line description of a probe failure."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
