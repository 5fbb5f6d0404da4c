"""``make run``: the whole platform on this machine, until Ctrl-C.

Starts the local services (scripts/services.py, run profile), loads the demo data, then the web
server, a Faust worker, the market replayer and the sandbox payment provider (scale-out:
``SAMOOH_WEB_PROCESSES=N`` web processes on ports SAMOOH_PORT…+N-1 sharing rooms through Redis,
``SAMOOH_WORKERS=M`` workers sharing partitions through the consumer group); waits until
``/api/ready`` answers, prints the URL and the demo logins, watches the services, and on Ctrl-C,
SIGTERM or SIGHUP (or when any part dies) stops everything it started, services included,
leaving nothing running. One ``make run`` per clone at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RUN_DIR = ROOT / ".local" / "run"
LOGS = RUN_DIR / "logs"
SERVICES = [PY, str(ROOT / "scripts" / "services.py")]
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CHILD_STOP_SECONDS = 10


class Interrupted(Exception):
    """A stop signal arrived; unwind and clean up."""


class Stopper:
    """Turns SIGINT/SIGTERM/SIGHUP into a flag the start-up and watch loops check."""

    def __init__(self) -> None:
        self.requested = False
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if not self.requested:
            say(f"{signal.Signals(signum).name}: stopping…")
        self.requested = True

    def check(self) -> None:
        if self.requested:
            raise Interrupted


def say(message: str) -> None:
    print(f"[samooh] {message}", flush=True)


def parse_exports(text: str) -> dict[str, str]:
    """Read ``export NAME='value'`` lines into a dict."""
    env: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("export ") and "=" in line:
            name, _, value = line[len("export ") :].partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


def port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@contextlib.contextmanager
def one_run_per_clone() -> Iterator[bool]:
    """Hold ``.local/run/run.lock`` for the whole run; yields False if another run holds it."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    with (RUN_DIR / "run.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield True


def wait_process(proc: subprocess.Popen[bytes], stopper: Stopper | None) -> int:
    """Wait for ``proc``; a stop request does not interrupt it (it is cleaning up itself)."""
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if stopper is not None and stopper.requested:
                stopper = None  # say it once; the process finishes its own steps
                say("letting the current step finish before stopping…")


class Platform:
    """The child processes of one ``make run``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> None:
        log = LOGS / f"{name}.log"
        with log.open("ab") as handle:
            proc = subprocess.Popen(
                argv, cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # the terminal's Ctrl-C reaches us; we stop children
            )  # fmt: skip
        self.children.append((name, proc, log))

    def dead(self) -> tuple[str, int, Path] | None:
        for name, proc, log in self.children:
            code = proc.poll()
            if code is not None:
                return name, code, log
        return None

    def stop(self) -> None:
        for _, proc, _ in reversed(self.children):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + CHILD_STOP_SECONDS
        for name, proc, _ in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop within {CHILD_STOP_SECONDS} s: killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def readiness(url: str) -> dict[str, object] | None:
    """``/api/ready``'s body (200 or 503), or None when the web server does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/api/ready", timeout=5) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as error:
        try:
            return dict(json.loads(error.read()))
        except ValueError:
            return None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def failed_services(body: dict[str, object] | None) -> list[str]:
    if body is None:
        return ["web server"]
    error = body.get("error")
    if isinstance(error, dict):
        return list(error.get("details", {}).get("failed", []))
    return []


def wait_ready(url: str, platform: Platform, stopper: Stopper, timeout: float = 90,
               path: str = "/api/ready") -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stopper.check()
        dead = platform.dead()
        if dead:
            name, code, log = dead
            raise RuntimeError(
                f"{name} exited with status {code}; last lines of {log}:\n{tail(log)}"
            )
        try:
            with urllib.request.urlopen(f"{url}{path}", timeout=3) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url}{path} did not answer 200 within {timeout:.0f} s")


def settings_problem(env: dict[str, str]) -> str | None:
    """Check the settings in the child's environment once, with a one-line answer."""
    check = subprocess.run(
        [PY, "-c", "from app.config import describe_invalid_settings as d; print(d() or '')"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    text = (check.stdout or check.stderr).strip()
    return text or None


def scale(environ: os._Environ[str] | dict[str, str]) -> tuple[int, int]:
    """How many web processes (``SAMOOH_WEB_PROCESSES``) and Faust workers (``SAMOOH_WORKERS``)
    to start: 1 each unless set, each 1 to 16. Raises ``SystemExit`` on anything else."""
    counts = []
    for name in ("SAMOOH_WEB_PROCESSES", "SAMOOH_WORKERS"):
        raw = environ.get(name, "1")
        if not raw.isdigit() or not 1 <= int(raw) <= 16:
            raise SystemExit(f"[samooh] {name} must be a whole number from 1 to 16, not {raw!r}")
        counts.append(int(raw))
    return counts[0], counts[1]


def main() -> int:
    stopper = Stopper()
    with one_run_per_clone() as mine:
        if not mine:
            say("another `make run` is already running in this clone; stop it first (Ctrl-C)")
            return 2
        return run(stopper)


def run(stopper: Stopper) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("SAMOOH_HOST", "127.0.0.1")
    problem = settings_problem(dict(os.environ))
    if problem:
        say(problem)
        return 2
    port = int(os.environ.get("SAMOOH_PORT", "8000"))
    url = f"http://{host}:{port}"
    web_processes, workers = scale(os.environ)
    for web_port in range(port, port + web_processes):
        if not port_free(host, web_port):
            say(f"port {web_port} on {host} is taken by another program; set SAMOOH_PORT=<port>")
            return 2
    # The sandbox payment provider (devtools/payments_sandbox) stands in for Razorpay in dev.
    sandbox = os.environ.get("SAMOOH_PAYMENT_PROVIDER", "sandbox") == "sandbox"
    sandbox_url = os.environ.get("SAMOOH_PAYMENT_SANDBOX_URL", "http://127.0.0.1:8010")
    sandbox_port = int(sandbox_url.rsplit(":", 1)[1].split("/")[0])
    if sandbox and not port_free(host, sandbox_port):
        say(f"port {sandbox_port} is taken; set SAMOOH_PAYMENT_SANDBOX_URL=http://{host}:<port>")
        return 2
    # The sandbox SMS provider (devtools/sms_sandbox) stands in for MSG91 in dev.
    sms_sandbox = os.environ.get("SAMOOH_SMS_PROVIDER", "sandbox") == "sandbox"
    sms_url = os.environ.get("SAMOOH_SMS_SANDBOX_URL", "http://127.0.0.1:8011")
    if sms_sandbox and not port_free(host, int(sms_url.rsplit(":", 1)[1].split("/")[0])):
        say(f"the SMS sandbox's port is taken; set SAMOOH_SMS_SANDBOX_URL=http://{host}:<port>")
        return 2

    # The broker sandbox (devtools/brokers_sandbox: Kite and Alpaca API shapes) for linked clubs.
    brokers_url = os.environ.get("SAMOOH_BROKER_SANDBOX_URL", "http://127.0.0.1:8020")
    if not port_free(host, int(brokers_url.rsplit(":", 1)[1].split("/")[0])):
        say(
            f"the broker sandbox's port is taken; set SAMOOH_BROKER_SANDBOX_URL=http://{host}:<port>"
        )
        return 2

    already_up = subprocess.run([*SERVICES, "status", "--profile", "run"], capture_output=True)
    we_started_services = already_up.returncode != 0
    platform: Platform | None = None
    code = 0
    try:
        say("starting local services (MongoDB wire server, Kafka, Redis, SMTP)…")
        # Its own session: a Ctrl-C now must not kill it half-way (it would leave servers
        # running); it finishes, then we stop what it started.
        up = subprocess.Popen([*SERVICES, "up", "--profile", "run"], stdout=subprocess.PIPE,
                              start_new_session=True)  # fmt: skip
        out = up.communicate()[0]  # a signal meanwhile only sets the stop flag
        if up.returncode != 0:
            say("local services did not start (see the message above)")
            return 1
        stopper.check()
        env = {**os.environ, **parse_exports(out.decode())}
        env.setdefault("SAMOOH_PUBLIC_URL", url)
        env.setdefault("SAMOOH_ENVIRONMENT", "dev")
        env.setdefault("SAMOOH_PAYMENT_SANDBOX_URL", sandbox_url)
        env.setdefault("SAMOOH_SMS_SANDBOX_URL", sms_url)
        env.setdefault("SAMOOH_BROKER_SANDBOX_URL", brokers_url)

        say("loading demo data…")
        demo_log = LOGS / "demo.log"
        with demo_log.open("wb") as handle:
            demo = subprocess.Popen([PY, "-m", "devtools.demo"], cwd=ROOT, env=env, stdout=handle,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            if wait_process(demo, stopper) != 0:
                raise RuntimeError(f"loading the demo data failed:\n{tail(demo_log, 8)}")
        stopper.check()
        platform = Platform(env)
        # Scale-out: web processes share rooms through Redis (ports port, port+1, …; put a
        # websocket-aware load balancer in front), workers share the topics' partitions through
        # the consumer group (one data folder each).
        for i in range(web_processes):
            platform.start("web" if i == 0 else f"web-{i}",
                           [PY, "-m", "app", "--host", host, "--port", str(port + i)])  # fmt: skip
        worker_dir = env.get("SAMOOH_WORKER_DATA_DIR", ".local/worker")
        for i in range(workers):
            platform.start("worker" if i == 0 else f"worker-{i}", [PY, "-m", "agents"],
                           {"SAMOOH_WORKER_DATA_DIR": worker_dir if i == 0 else
                            f"{worker_dir}-{i}"})  # fmt: skip
        platform.start("replayer", [PY, "-m", "devtools.replayer"])
        if sandbox:
            platform.start("payments-sandbox", [PY, "-m", "devtools.payments_sandbox"])
            wait_ready(sandbox_url, platform, stopper, path="/healthz")
        if sms_sandbox:
            platform.start("sms-sandbox", [PY, "-m", "devtools.sms_sandbox"])
            wait_ready(sms_url, platform, stopper, path="/healthz")
        platform.start("brokers-sandbox", [PY, "-m", "devtools.brokers_sandbox"])
        wait_ready(brokers_url, platform, stopper, path="/healthz")
        wait_ready(url, platform, stopper)
        from devtools.demo import DEMO_LOGINS

        say("")
        say(f"Samooh is running at {url}")
        say(f"API docs: {url}/api-docs    readiness: {url}/api/ready    metrics: {url}/metrics")
        if sandbox:
            say(f"sandbox payment provider (checkout pages; webhooks to the app): {sandbox_url}")
        if sms_sandbox:
            say(f"sandbox SMS provider (messages sent: {sms_url}/sandbox/messages)")
        say(f"broker sandbox (Kite /kite, Alpaca /alpaca): {brokers_url}")
        say(f"mail sent by the app (codes included): {url}/dev/mail")
        if DEMO_LOGINS:
            say("demo logins (email  password):")
            for email, password, purpose in DEMO_LOGINS:
                say(f"  {email}  {password}    ({purpose})")
        if web_processes > 1:
            urls = ", ".join(f"http://{host}:{port + i}" for i in range(web_processes))
            say(f"web processes: {urls} (rooms shared through Redis)")
        if workers > 1:
            say(f"workers: {workers} in one consumer group (partitions shared)")
        say(f"logs: {LOGS}/{{web,worker,replayer,*-sandbox}}.log   Ctrl-C stops everything.")
        code = watch(platform, url, stopper)
    except Interrupted:
        code = 130
    except RuntimeError as exc:
        say(str(exc))
        code = 1
    finally:
        say("stopping…")
        if platform is not None:
            platform.stop()
        if we_started_services:
            subprocess.run([*SERVICES, "down", "--profile", "run"], start_new_session=True)
        say("stopped.")
    return code


def watch(platform: Platform, url: str, stopper: Stopper) -> int:
    """Until a stop is asked for: end if a child dies; say when a service stops answering."""
    failing: list[str] = []
    next_check = time.monotonic() + 5
    while not stopper.requested:
        dead = platform.dead()
        if dead:
            name, status, log = dead
            say(f"{name} exited with status {status}; last lines of {log}:\n{tail(log)}")
            return 1
        if time.monotonic() >= next_check:
            now_failing = failed_services(readiness(url))
            if now_failing != failing:
                if now_failing:
                    say(f"warning: not answering: {', '.join(now_failing)} (see {url}/api/ready;"
                        " `.venv/bin/python scripts/services.py status`)")  # fmt: skip
                else:
                    say("every service answers again")
                failing = now_failing
            next_check = time.monotonic() + 5
        time.sleep(0.3)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
