#!/usr/bin/env python3
"""Install (cached), start, check and stop Samooh's local services.

The local services are real servers listening on 127.0.0.1 only:

* MongoDB wire protocol -- SecantusDB (PyPI, GPL: installed into its own virtualenv in
  the user cache, never into the app's venv), advertised as the one-node replica set
  ``secantus``;
* Kafka -- the Apache Kafka broker jars from Maven Central, one KRaft node that is both
  broker and controller;
* Redis -- Debian's ``redis-server``;
* SMTP -- the project's own mail server (``python -m app.mail.devserver``, aiosmtpd): it
  accepts every message and stores it as JSON in ``<datadir>/smtp/mailbox`` (exported as
  ``SAMOOH_DEV_MAILBOX_DIR``), for the dev outbox; it relays nothing.

Usage (from the repository root)::

    .venv/bin/python scripts/services.py install|up|down|status|env [--profile run|test]
    eval "$(.venv/bin/python scripts/services.py up --profile test)"

Profiles:

* ``run`` (default): data under ``<repo>/.local/run/``, fixed ports (MongoDB 27018,
  Kafka 19092 + controller 19093, Redis 6380, SMTP 2525); data persists between runs.
* ``test``: data under ``<repo>/.local/test/``, free ports picked at ``up``; the data of a
  service is wiped whenever ``up`` has to (re)start it. Never touches the ``run`` profile.

``up`` prints ``export NAME='value'`` lines on stdout (and writes them to
``<datadir>/services.env``); progress and errors go to stderr. A service whose URL is
already set in the environment (``MONGODB_URL``, ``KAFKA_BOOTSTRAP_SERVERS``,
``REDIS_URL``, ``SMTP_URL``) is neither installed nor started: its URL is passed through -- unless
it is the URL of one of this clone's own services (left in the shell by an earlier
``eval``): then it is managed as usual, and another profile's URL is ignored, so the
test profile never runs against the run profile's data.

Exit status: 0 success, 1 failure, 2 usage error, 3 (``status``/``env``) not all running.

Downloads are cached in ``${XDG_CACHE_HOME:-~/.cache}/samooh/<name>-<version>/``, each
guarded by a completion marker so an interrupted install is redone and every clone of
the repository shares the cache. Only the standard library plus pymongo, redis and
aiokafka (imported lazily, from the project's venv) are used; the mail server runs from the
project's venv too.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
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

SECANTUS_VERSION = "0.7.0b3"
# SecantusDB advertises itself as this one-node replica set (see `secantusd-py --help`).
SECANTUS_REPLICA_SET = "secantus"
KAFKA_VERSION = "4.4.0"
KAFKA_SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.25.5"
KAFKA_MIN_JARS = 40  # copy-dependencies yields 45 jars for the versions above

INSTALL_TIMEOUT_S = 900.0
PROFILE_LOCK_TIMEOUT_S = 1200.0

KAFKA_POM = f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.samooh</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{KAFKA_SCALA_VERSION}</artifactId>
      <version>{KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""


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
# processes


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
# installs (cached outside the clone, keyed by version, guarded by a completion marker)


def secantus_home() -> Path:
    """Cache folder of the SecantusDB install."""
    return cache_root() / f"secantusdb-{SECANTUS_VERSION}"


def secantus_bin() -> Path:
    """The secantusd-py launcher inside SecantusDB's own virtualenv."""
    return secantus_home() / "venv" / "bin" / "secantusd-py"


def kafka_libs() -> Path:
    """Folder with the Kafka broker's jars."""
    return cache_root() / f"kafka-{KAFKA_VERSION}" / "libs"


def _marker_ok(home: Path, *must_exist: Path) -> bool:
    """True when an install finished (marker written last) and its key files exist."""
    return (home / ".complete").is_file() and all(p.exists() for p in must_exist)


def _write_marker(home: Path, **details: str) -> None:
    """Record that an install completed."""
    info = {"completed": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **details}
    write_atomic(home / ".complete", json.dumps(info, indent=2) + "\n")


def install_secantus() -> None:
    """pip-install secantusdb into its own venv in the cache (not the app's venv: GPL)."""
    home = secantus_home()
    venv_python = home / "venv" / "bin" / "python"
    if _marker_ok(home, secantus_bin(), venv_python):
        return
    with file_lock(
        cache_root() / f".secantusdb-{SECANTUS_VERSION}.lock",
        "SecantusDB install",
        INSTALL_TIMEOUT_S,
    ):
        if _marker_ok(home, secantus_bin(), venv_python):
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
        _write_marker(home, package=f"secantusdb=={SECANTUS_VERSION}")
        say(f"SecantusDB installed in {time.monotonic() - started:.1f} s")


def install_kafka() -> None:
    """Fetch the Kafka broker jars (+ log4j2 binding) with Maven into the cache."""
    home = kafka_libs().parent
    main_jar = kafka_libs() / f"kafka_{KAFKA_SCALA_VERSION}-{KAFKA_VERSION}.jar"
    if _marker_ok(home, main_jar):
        return
    mvn = require_tool("mvn", "install Maven (Debian: apt-get install -y maven)")
    require_tool(
        "java", "install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)"
    )
    with file_lock(
        cache_root() / f".kafka-{KAFKA_VERSION}.lock", "Kafka install", INSTALL_TIMEOUT_S
    ):
        if _marker_ok(home, main_jar):
            return
        started = time.monotonic()
        say(f"fetching Kafka {KAFKA_VERSION} jars from Maven Central into {kafka_libs()} ...")
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        log = home / "install.log"
        with tempfile.TemporaryDirectory(prefix="samooh-kafka-pom-") as tmp:
            pom = Path(tmp) / "pom.xml"
            pom.write_text(KAFKA_POM)
            run_logged(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-f",
                    str(pom),
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={kafka_libs()}",
                ],
                log,
                "Kafka jars (mvn)",
                cwd=Path(tmp),
            )
        jars = list(kafka_libs().glob("*.jar"))
        if not main_jar.exists() or len(jars) < KAFKA_MIN_JARS:
            raise ServiceError(
                f"Kafka jars incomplete: {len(jars)} jars in {kafka_libs()}\n" + tail(log)
            )
        _write_marker(
            home,
            artifacts=f"kafka_{KAFKA_SCALA_VERSION}:{KAFKA_VERSION}, log4j {LOG4J_VERSION}",
            jars=str(len(jars)),
        )
        say(f"Kafka jars fetched ({len(jars)} jars) in {time.monotonic() - started:.1f} s")


def install_redis() -> None:
    """Make sure Debian's redis-server is installed (apt-get, only when running as root)."""
    if shutil.which("redis-server"):
        return
    if os.geteuid() != 0:
        raise ServiceError(
            "redis-server is not installed and this is not root; install it "
            "with: sudo apt-get install -y redis-server"
        )
    with file_lock(cache_root() / ".apt.lock", "apt-get install redis-server", INSTALL_TIMEOUT_S):
        if shutil.which("redis-server"):
            return
        say("installing redis-server with apt-get ...")
        log = cache_root() / "apt-redis-server.log"
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run_logged(["apt-get", "update", "-qq"], log, "apt-get update", env=env)
        run_logged(
            ["apt-get", "install", "-y", "-qq", "redis-server"],
            log,
            "apt-get install redis-server",
            env=env,
        )
        if not shutil.which("redis-server"):
            raise ServiceError("apt-get installed redis-server but it is not on PATH\n" + tail(log))


def install_smtp() -> None:
    """The local mail server is the project's own module (aiosmtpd, in the project's venv)."""
    if importlib.util.find_spec("aiosmtpd") is None:
        raise ServiceError(
            f"{sys.executable} lacks aiosmtpd: run `make venv` (or use .venv/bin/python)"
        )


INSTALLERS: dict[str, Callable[[], None]] = {
    "mongodb": install_secantus,
    "kafka": install_kafka,
    "redis": install_redis,
    "smtp": install_smtp,
}


def install(services: list[str]) -> None:
    """Run the installers of `services` in parallel; raise one error listing all failures."""
    if not services:
        return
    with ThreadPoolExecutor(max_workers=len(services)) as pool:
        futures = {name: pool.submit(INSTALLERS[name]) for name in services}
    errors = []
    for name, future in futures.items():
        exc = future.exception()
        if isinstance(exc, ServiceError):
            errors.append(f"{name}: install failed: {exc}")
        elif exc is not None:
            errors.append(f"{name}: install failed: {type(exc).__name__}: {exc}")
    if errors:
        raise ServiceError("\n".join(errors))


# ---------------------------------------------------------------------------------------
# profiles


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


def url_for(svc: str, ports: dict[str, int]) -> str:
    """The connection URL (or bootstrap list) of a locally started service."""
    if svc == "mongodb":
        # replicaSet=: the driver sees the same replica-set topology as in production (and
        # checks the set name). retryWrites=false: with retryable writes SecantusDB slows
        # to ~100 writes/s after ~10k writes in one process (it re-sorts its records of
        # retryable writes on every write).
        return (
            f"mongodb://{HOST}:{ports['mongodb']}/"
            f"?replicaSet={SECANTUS_REPLICA_SET}&retryWrites=false"
        )
    if svc == "kafka":
        return f"{HOST}:{ports['kafka']}"
    if svc == "smtp":
        return f"smtp://{HOST}:{ports['smtp']}"
    return f"redis://{HOST}:{ports['redis']}/0"


def own_urls() -> dict[str, str]:
    """URLs of this clone's own services, mapped to their profile name."""
    owned: dict[str, str] = {}
    for name in ("run", "test"):
        ports = Profile(name).ports()
        for svc in SERVICES:
            if svc in ports and (svc != "kafka" or "kafka_controller" in ports):
                owned[url_for(svc, ports)] = name
    return owned


def external_urls(profile: Profile, quiet: bool = False) -> dict[str, str]:
    """Services whose URL is set in the environment: passed through, never started/stopped.

    A URL that names one of this clone's own services (typically left in the shell by
    `eval "$(services.py up)"`) is not external: for the same profile the service is
    managed as usual; another profile's URL is ignored, so the test profile can never
    be pointed at the run profile's data by accident.
    """
    owned = own_urls()
    external = {}
    for svc, var in ENV_VARS.items():
        value = os.environ.get(var)
        if not value:
            continue
        owner = owned.get(value)
        if owner is None:
            external[svc] = value
        elif owner != profile.name and not quiet:
            say(
                f"{svc}: ignoring {var} from the environment: it is the {owner} profile's "
                f"own {svc}; the {profile.name} profile uses its own"
            )
    return external


# ---------------------------------------------------------------------------------------
# starting


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
    return spawn(profile, "mongodb", cmd, port, url_for("mongodb", ports))


def redis_conf_str(value: str) -> str:
    """A double-quoted redis.conf string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def start_redis(profile: Profile, ports: dict[str, int]) -> Launched:
    """Start redis-server on the profile's Redis port, in the foreground (not daemonized)."""
    d = profile.svc_dir("redis")
    data = d / "data"
    data.mkdir(parents=True, exist_ok=True)
    port = ports["redis"]
    conf = d / "redis.conf"
    # run profile: snapshot now and then so sessions survive a restart; test: no disk.
    save = "300 1 60 1000" if profile.fixed_ports else ""
    conf.write_text(
        "# written by scripts/services.py\n"
        f"port {port}\nbind {HOST}\nprotected-mode yes\ndaemonize no\n"
        f"dir {redis_conf_str(str(data))}\nsave {redis_conf_str(save)}\nappendonly no\n"
        'logfile ""\nloglevel notice\n'
        # the config path in the process title lets `status`/`down` recognise the process
        'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"\n'
    )
    cmd = [require_tool("redis-server", "install it: apt-get install -y redis-server"), str(conf)]
    return spawn(profile, "redis", cmd, port, url_for("redis", ports))


def kafka_cluster_id() -> str:
    """A random Kafka cluster id, made as `kafka-storage random-uuid` makes one."""
    while True:  # org.apache.kafka.common.Uuid.randomUuid(): url-safe base64, no padding
        raw = os.urandom(16)
        text = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        if not text.startswith("-") and raw not in (bytes(16), bytes(15) + b"\x01"):
            return text


def start_kafka(profile: Profile, ports: dict[str, int]) -> Launched:
    """Write KRaft config, format the storage once, start the combined broker/controller."""
    java = require_tool("java", "install a Java 17+ runtime")
    d = profile.svc_dir("kafka")
    data = d / "data"
    port, cport = ports["kafka"], ports["kafka_controller"]
    props = d / "server.properties"
    log4j = d / "log4j2.properties"
    d.mkdir(parents=True, exist_ok=True)
    props.write_text(f"""# written by scripts/services.py (profile {profile.name})
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}
advertised.listeners=PLAINTEXT://{HOST}:{port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.quorum.bootstrap.servers={HOST}:{cport}
log.dirs={data}
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
""")
    server_log = d / "server.log"
    # without a log4j2 config file Kafka prints nothing at all
    log4j.write_text(f"""# written by scripts/services.py
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {server_log}
appender.file.filePattern = {server_log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
""")
    classpath = f"{kafka_libs()}/*"
    log_opt = f"-Dlog4j2.configurationFile={log4j}"
    formatted = d / "formatted"  # written after a complete format: a half one is redone
    if not (formatted.exists() and (data / "meta.properties").exists()):
        formatted.unlink(missing_ok=True)
        shutil.rmtree(data, ignore_errors=True)
        started = time.monotonic()
        run_logged(
            [
                java,
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                log_opt,
                "-cp",
                classpath,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                kafka_cluster_id(),
                "-c",
                str(props),
                "--standalone",
            ],
            d / "format.log",
            "kafka: storage format",
            timeout=120,
        )
        formatted.write_text(f"formatted {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        say(f"kafka: storage formatted in {time.monotonic() - started:.1f} s")
    cmd = [
        java,
        "-Xmx512m",
        "-Xms256m",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        log_opt,
        "-cp",
        classpath,
        "kafka.Kafka",
        str(props),
    ]
    return spawn(profile, "kafka", cmd, port, url_for("kafka", ports))


def start_smtp(profile: Profile, ports: dict[str, int]) -> Launched:
    """Start the project's local mail server (app/mail/devserver.py, aiosmtpd); it stores each
    message it receives as a JSON file in <datadir>/smtp/mailbox and relays nothing."""
    mailbox = profile.svc_dir("smtp") / "mailbox"
    mailbox.mkdir(parents=True, exist_ok=True)
    port = ports["smtp"]
    cmd = [
        sys.executable,
        "-m",
        "app.mail.devserver",
        "--host",
        HOST,
        "--port",
        str(port),
        "--dir",
        str(mailbox),
    ]
    return spawn(profile, "smtp", cmd, port, url_for("smtp", ports))


STARTERS: dict[str, Callable[[Profile, dict[str, int]], Launched]] = {
    "mongodb": start_mongodb,
    "kafka": start_kafka,
    "redis": start_redis,
    "smtp": start_smtp,
}


# ---------------------------------------------------------------------------------------
# readiness probes (each raises unless the service really answers)


def quiet_client_logs() -> None:
    """Keep client libraries' connection-refused chatter off stderr while polling."""
    for name in ("aiokafka", "kafka", "pymongo", "redis", "asyncio"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


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


async def probe_kafka(bootstrap: str, timeout: float) -> None:
    """The broker must answer a metadata request listing at least one broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="samooh-services",
        request_timeout_ms=max(500, int(timeout * 1000)),
    )
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
        if not cluster.get("brokers"):
            raise RuntimeError("metadata lists no broker yet")
    finally:
        await admin.close()


async def probe_redis(url: str, timeout: float) -> None:
    """PING must return PONG."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        if not await client.ping():
            raise RuntimeError("PING was not answered with PONG")
    finally:
        await client.aclose()


async def probe_smtp(url: str, timeout: float) -> None:
    """The server must greet with 220 and answer NOOP with 250."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 25)
    try:
        greeting = await asyncio.wait_for(reader.readline(), timeout)
        if not greeting.startswith(b"220"):
            raise RuntimeError(f"unexpected greeting {greeting[:60]!r}")
        writer.write(b"NOOP\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.readline(), timeout)
        if not answer.startswith(b"250"):
            raise RuntimeError(f"NOOP answered {answer[:60]!r}")
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


PROBES: dict[str, Callable[[str, float], Coroutine[Any, Any, None]]] = {
    "mongodb": probe_mongodb,
    "kafka": probe_kafka,
    "redis": probe_redis,
    "smtp": probe_smtp,
}


def require_client_libs() -> None:
    """The probes need the project's venv (pymongo, redis, aiokafka): say so clearly."""
    missing = [m for m in ("pymongo", "redis", "aiokafka") if importlib.util.find_spec(m) is None]
    if missing:
        raise ServiceError(
            f"{sys.executable} lacks {', '.join(missing)}: run this script with the project's "
            f"venv, e.g. .venv/bin/python scripts/services.py"
        )


def describe_exc(exc: BaseException) -> str:
    """A one-line description of a probe failure."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


async def probe_once(svc: str, url: str, timeout: float) -> str | None:
    """Probe once within `timeout`; None when the service answers, else why not."""
    try:
        await asyncio.wait_for(PROBES[svc](url, timeout), timeout + 1.0)
    except Exception as exc:  # any client error means "not answering"
        return describe_exc(exc)
    return None


async def wait_ready(profile: Profile, item: Launched) -> float:
    """Poll until the service answers; fail early if it exits, or at its deadline."""
    deadline_s = READY_DEADLINE_S[item.svc]
    start = time.monotonic()
    last = "no answer yet"
    where = f"{item.svc} ({redact(item.url)})"
    while True:
        remaining = start + deadline_s - time.monotonic()
        if remaining <= 0:
            hint = ""
            if item.proc is None:  # started by an earlier `up`: left alone
                hint = (
                    f"  it was already running (pid {item.pid}); to restart it: "
                    f"scripts/services.py down --profile {profile.name}, then up\n"
                )
            raise ServiceError(
                f"{where} did not answer within {deadline_s:.0f} s (last error: {last})\n"
                + hint
                + profile.log_tails(item.svc)
            )
        why = await probe_once(item.svc, item.url, min(2.0, max(0.2, remaining)))
        if why is None:
            return time.monotonic() - start
        last = why
        status = item.exit_status()
        if status is not None:
            how = f" with status {status}" if status >= 0 else ""
            raise ServiceError(
                f"{where}: process {item.pid} exited{how} before answering\n"
                + profile.log_tails(item.svc)
            )
        await asyncio.sleep(0.2)


async def wait_all(profile: Profile, items: list[Launched]) -> list[float | BaseException]:
    """Wait for every service concurrently; returns seconds or the error, per item."""
    quiet_client_logs()
    return await asyncio.gather(*(wait_ready(profile, it) for it in items), return_exceptions=True)


# ---------------------------------------------------------------------------------------
# commands


def env_lines(urls: dict[str, str]) -> list[str]:
    """`export NAME='value'` lines in a fixed order."""
    return [f"export {ENV_VARS[s]}={shell_quote(urls[s])}" for s in SERVICES if s in urls]


def cmd_install(profile: Profile) -> int:
    """Install (or verify the cache of) every service not provided through the env."""
    external = external_urls(profile)
    for svc in external:
        say(f"{svc}: {ENV_VARS[svc]} is set: not installing")
    started = time.monotonic()
    install([s for s in SERVICES if s not in external])
    say(f"installs ready in {time.monotonic() - started:.1f} s (cache: {cache_root()})")
    return 0


def _interrupt(signum: int, _frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt so `up` cleans up what it started."""
    raise KeyboardInterrupt(f"signal {signum}")


def cmd_up(profile: Profile) -> int:
    """Install if needed, start what is not running, wait until all answer, print env."""
    t0 = time.monotonic()
    require_client_libs()
    external = external_urls(profile)
    for svc, url in external.items():
        say(f"{svc}: using {ENV_VARS[svc]}={redact(url)} from the environment")
    managed = [s for s in SERVICES if s not in external]
    profile.ensure_datadir()
    with profile.lock():
        profile.env_file.unlink(missing_ok=True)
        running = {s: pid for s in managed if (pid := profile.running_pid(s)) is not None}
        to_start = [s for s in managed if s not in running]
        for svc in to_start:
            profile.pid_file(svc).unlink(missing_ok=True)  # stale, if any
        install(to_start)

        ports = profile.ports()
        if not profile.fixed_ports:
            fresh = iter(free_ports(5))
            for svc in to_start:
                keys = ["kafka", "kafka_controller"] if svc == "kafka" else [svc]
                for key in keys:
                    ports[key] = next(fresh)
            profile.save_ports(ports)
            for svc in to_start:  # test data starts fresh whenever the service (re)starts
                d = profile.svc_dir(svc)
                if d.parent == profile.datadir and profile.name == "test":
                    shutil.rmtree(d, ignore_errors=True)
        elif to_start:
            profile.save_ports(ports)

        busy = []
        for svc in to_start:
            for key in ["kafka", "kafka_controller"] if svc == "kafka" else [svc]:
                if port_in_use(ports[key]):
                    holder = port_holder(ports[key])
                    busy.append(
                        f"{svc} ({redact(url_for(svc, ports))}): port {ports[key]} on {HOST} "
                        f"is already in use by a "
                        f"process this profile did not start" + (f" ({holder})" if holder else "")
                    )
        if busy:
            raise ServiceError(f"cannot start (profile {profile.name}):\n  " + "\n  ".join(busy))

        unknown = [
            s
            for s in running
            if s not in ports or (s == "kafka" and "kafka_controller" not in ports)
        ]
        if unknown and not profile.fixed_ports:
            raise ServiceError(
                f"{', '.join(unknown)} running but {profile.ports_file} does not say on which "
                f"port: run `scripts/services.py down --profile {profile.name}`, then `up`"
            )
        items = [Launched(s, pid, url_for(s, ports), ports[s]) for s, pid in running.items()]
        for svc, pid in running.items():
            say(f"{svc}: already running (pid {pid}) on {HOST}:{ports[svc]}")
        started: list[Launched] = []
        old_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        try:
            # quick ones first: they start while Kafka's storage is being formatted
            for svc in sorted(to_start, key=lambda s: s == "kafka"):
                profile.svc_dir(svc).mkdir(parents=True, exist_ok=True)
                started.append(STARTERS[svc](profile, ports))
            items += started
            results = asyncio.run(wait_all(profile, items))
            errors = []
            for item, result in zip(items, results, strict=True):
                if isinstance(result, BaseException):
                    if isinstance(result, ServiceError):
                        errors.append(str(result))
                    else:
                        errors.append(f"{item.svc}: {describe_exc(result)}")
                else:
                    say(f"{item.svc}: answering on {HOST}:{item.port} (waited {result:.1f} s)")
            if errors:
                raise ServiceError("\n".join(errors))
        except BaseException:
            if started:
                say("stopping what this `up` started: " + ", ".join(i.svc for i in started))
                stop_processes({i.svc: i.pid for i in started}, grace=10.0)
                for item in started:
                    profile.pid_file(item.svc).unlink(missing_ok=True)
            raise
        finally:
            signal.signal(signal.SIGTERM, old_sigterm)

        urls = {**{i.svc: i.url for i in items}, **external}
        lines = env_lines(urls)
        if "smtp" in managed:  # the mailbox the dev outbox endpoint reads
            mailbox = profile.svc_dir("smtp") / "mailbox"
            lines.append(f"export {MAILBOX_ENV_VAR}={shell_quote(str(mailbox))}")
        header = [
            (
                f"# Samooh local services, profile {profile.name!r}: "
                f"written by scripts/services.py up at {time.strftime('%Y-%m-%d %H:%M:%S')}"
            ),
            "# started here: " + (" ".join(managed) or "-"),
            "# from environment: " + (" ".join(external) or "-"),
        ]
        write_atomic(profile.env_file, "\n".join(header + lines) + "\n", mode=0o600)
    print("\n".join(lines), flush=True)
    say(
        f"profile {profile.name} up in {time.monotonic() - t0:.1f} s (env file: {profile.env_file})"
    )
    return 0


def cmd_down(profile: Profile) -> int:
    """Stop the services this profile started; idempotent."""
    if not profile.datadir.exists():
        say(f"profile {profile.name}: nothing to stop")
        return 0
    with profile.lock():
        pids = {s: pid for s in SERVICES if (pid := profile.running_pid(s)) is not None}
        if pids:
            say("stopping " + ", ".join(f"{s} (pid {p})" for s, p in pids.items()) + " ...")
            t0 = time.monotonic()
            stop_processes(pids)
            left = [s for s, p in pids.items() if pid_alive(p)]
            if left:
                raise ServiceError("could not stop: " + ", ".join(left))
            say(f"stopped in {time.monotonic() - t0:.1f} s")
        else:
            say(f"profile {profile.name}: nothing running")
        for svc in SERVICES:
            profile.pid_file(svc).unlink(missing_ok=True)
        profile.env_file.unlink(missing_ok=True)
    return 0


def cmd_status(profile: Profile) -> int:
    """One line per service; exit 0 when all run and answer, else 3."""
    require_client_libs()
    external = external_urls(profile, quiet=True)
    ports = profile.ports()
    rows: list[tuple[str, str, int | None, str]] = []
    checks: list[tuple[int, str, str]] = []
    for svc in SERVICES:
        if svc in external:
            rows.append((svc, "external", None, external[svc]))
            checks.append((len(rows) - 1, svc, external[svc]))
            continue
        pid = profile.running_pid(svc)
        url = url_for(svc, ports) if svc in ports else "-"
        rows.append((svc, "running" if pid else "stopped", pid, url))
        if pid:
            checks.append((len(rows) - 1, svc, url))

    async def run_checks() -> list[str | None]:
        quiet_client_logs()
        return await asyncio.gather(*(probe_once(svc, url, 3.0) for _, svc, url in checks))

    all_ok = all(state != "stopped" for _, state, _, _ in rows)
    for (index, _svc, _url), why in zip(
        checks, asyncio.run(run_checks()) if checks else [], strict=True
    ):
        svc, state, pid, url = rows[index]
        if why is not None:
            all_ok = False
            state = "not answering" if state == "running" else "external, not answering"
        elif state == "external":
            state = "running (external)"
        rows[index] = (svc, state, pid, url)
    for svc, state, pid, url in rows:
        print(f"{svc:<8} {state:<24} pid={pid if pid else '-':<8} {redact(url)}")
    return 0 if all_ok else 3


def cmd_env(profile: Profile) -> int:
    """Print the export lines of the profile, exit 3 unless it is up."""
    try:
        text = profile.env_file.read_text()
    except FileNotFoundError:
        say(
            f"profile {profile.name} is not up; run: scripts/services.py up "
            f"--profile {profile.name}"
        )
        return 3
    started_here: list[str] = []
    for line in text.splitlines():
        if line.startswith("# started here:"):
            started_here = [s for s in line.split(":", 1)[1].split() if s in SERVICES]
    down = [s for s in started_here if profile.running_pid(s) is None]
    if down:
        say(
            f"profile {profile.name}: not running: {', '.join(down)}; run: "
            f"scripts/services.py up --profile {profile.name}"
        )
        return 3
    print("\n".join(line for line in text.splitlines() if line.startswith("export ")))
    return 0


COMMANDS: dict[str, Callable[[Profile], int]] = {
    "install": cmd_install,
    "up": cmd_up,
    "down": cmd_down,
    "status": cmd_status,
    "env": cmd_env,
}


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(
        prog="services.py",
        description="Install (cached), start, check and stop Samooh's local MongoDB-wire "
        "(SecantusDB), Kafka and Redis on 127.0.0.1.",
        epilog='eval "$(.venv/bin/python scripts/services.py up --profile test)"',
    )
    parser.add_argument(
        "command",
        choices=list(COMMANDS),
        help="install: installs only; up: start and print export lines; "
        "down: stop; status: one line per service; env: print the "
        "export lines of a running profile",
    )
    parser.add_argument(
        "--profile",
        choices=["run", "test"],
        default="run",
        help="run (default): fixed ports, data kept in .local/run; "
        "test: free ports, fresh data in .local/test",
    )
    parser.add_argument(
        "--instance",
        default=None,
        help="test profile only: a separate set of servers and data in .local/test-<instance> "
        "(make test uses one per run)",
    )
    args = parser.parse_args(argv)
    if args.instance is not None and (
        args.profile != "test" or not args.instance.replace("-", "").isalnum()
    ):
        parser.error("--instance needs --profile test and a name of letters, digits and '-'")
    try:
        return COMMANDS[args.command](Profile(args.profile, args.instance))
    except ServiceError as exc:
        print(
            f"services.py {args.command} --profile {args.profile}: FAILED\n{exc}",
            file=sys.stderr,
            flush=True,
        )
        return 1
    except KeyboardInterrupt:
        print(f"services.py {args.command}: interrupted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
