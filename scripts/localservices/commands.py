"""The commands of `scripts/services.py`: install, up, down, status, env."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import signal
import sys
import time
from collections.abc import Callable

from localservices.common import (
    ENV_VARS,
    HOST,
    MAILBOX_ENV_VAR,
    READY_DEADLINE_S,
    SERVICES,
    ServiceError,
    cache_root,
    describe_exc,
    free_ports,
    pid_alive,
    port_holder,
    port_in_use,
    quiet_client_logs,
    redact,
    say,
    shell_quote,
    stop_processes,
    write_atomic,
)
from localservices.profile import Launched, Profile
from localservices.registry import PROBES, STARTERS, external_urls, install, url_for


def require_client_libs() -> None:
    """The probes need the project's venv (pymongo, redis, aiokafka): say so clearly."""
    missing = [m for m in ("pymongo", "redis", "aiokafka") if importlib.util.find_spec(m) is None]
    if missing:
        raise ServiceError(
            f"{sys.executable} lacks {', '.join(missing)}: run this script with the project's "
            f"venv, e.g. .venv/bin/python scripts/services.py"
        )


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
