"""``make run``: the whole platform on this machine, until Ctrl-C.

Starts the local services (scripts/services.py, run profile), loads the demo data, then the web
server (Hypercorn), a Faust worker and the market replayer; waits until ``/api/ready`` answers,
prints the URL and the demo logins, and on Ctrl-C (or when any part dies) stops everything it
started, services included, leaving nothing running.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LOGS = ROOT / ".local" / "run" / "logs"
SERVICES = [PY, str(ROOT / "scripts" / "services.py")]


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


class Platform:
    """The child processes of one ``make run``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, argv: list[str]) -> None:
        log = LOGS / f"{name}.log"
        handle = log.open("ab")
        proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop children in order
        )
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
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _, proc, _ in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_ready(url: str, platform: Platform, timeout: float = 90, path: str = "/api/ready") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
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


def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("SAMOOH_HOST", "127.0.0.1")
    port = int(os.environ.get("SAMOOH_PORT", "8000"))
    url = f"http://{host}:{port}"
    if not port_free(host, port):
        say(f"port {port} on {host} is taken (another `make run`?); set SAMOOH_PORT=<port>")
        return 2
    # The sandbox payment provider (app/payments/sandbox) stands in for Razorpay in dev.
    sandbox = os.environ.get("SAMOOH_PAYMENT_PROVIDER", "sandbox") == "sandbox"
    sandbox_url = os.environ.get("SAMOOH_PAYMENT_SANDBOX_URL", "http://127.0.0.1:8010")
    sandbox_port = int(sandbox_url.rsplit(":", 1)[1].split("/")[0])
    if sandbox and not port_free(host, sandbox_port):
        say(f"port {sandbox_port} is taken; set SAMOOH_PAYMENT_SANDBOX_URL=http://{host}:<port>")
        return 2

    already_up = subprocess.run([*SERVICES, "status", "--profile", "run"], capture_output=True)
    say("starting local services (MongoDB wire server, Kafka, Redis, SMTP)…")
    up = subprocess.run([*SERVICES, "up", "--profile", "run"], stdout=subprocess.PIPE)
    if up.returncode != 0:
        say("local services did not start (see the message above)")
        return 1
    env = {**os.environ, **parse_exports(up.stdout.decode())}
    env.setdefault("SAMOOH_PUBLIC_URL", url)
    env.setdefault("SAMOOH_ENVIRONMENT", "dev")
    env.setdefault("SAMOOH_PAYMENT_SANDBOX_URL", sandbox_url)

    platform = Platform(env)
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        say("loading demo data…")
        subprocess.run([PY, "-m", "app.demo"], cwd=ROOT, env=env, check=True)
        platform.start("web", [PY, "-m", "app", "--host", host, "--port", str(port)])
        platform.start("worker", [PY, "-m", "agents"])
        platform.start("replayer", [PY, "-m", "app.market.replayer"])
        if sandbox:
            platform.start("payments-sandbox", [PY, "-m", "app.payments.sandbox"])
            wait_ready(sandbox_url, platform, path="/healthz")
        wait_ready(url, platform)
        from app.demo import DEMO_LOGINS

        say("")
        say(f"Samooh is running at {url}")
        say(f"API docs: {url}/api-docs    readiness: {url}/api/ready    metrics: {url}/metrics")
        if sandbox:
            say(f"sandbox payment provider (checkout pages; webhooks to the app): {sandbox_url}")
        say(f"mail sent by the app (codes included): {url}/dev/mail")
        if DEMO_LOGINS:
            say("demo logins (email  password):")
            for email, password, purpose in DEMO_LOGINS:
                say(f"  {email}  {password}    ({purpose})")
        say(f"logs: {LOGS}/{{web,worker,replayer,payments-sandbox}}.log   Ctrl-C stops everything.")
        while not stopping:
            dead = platform.dead()
            if dead:
                name, status, log = dead
                say(f"{name} exited with status {status}; last lines of {log}:\n{tail(log)}")
                code = 1
                break
            time.sleep(0.5)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        say(str(exc))
        code = 1
    finally:
        say("stopping…")
        platform.stop()
        if already_up.returncode != 0:
            subprocess.run([*SERVICES, "down", "--profile", "run"])
        say("stopped.")
    return code


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
