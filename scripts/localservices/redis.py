"""Redis: Debian's ``redis-server``, run in the foreground with a generated config."""

from __future__ import annotations

import os
import shutil

from localservices.common import (
    HOST,
    INSTALL_TIMEOUT_S,
    ServiceError,
    cache_root,
    file_lock,
    require_tool,
    run_logged,
    say,
    tail,
)
from localservices.profile import Launched, Profile, spawn


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


def url(ports: dict[str, int]) -> str:
    """The connection URL of the locally started Redis (database 0)."""
    return f"redis://{HOST}:{ports['redis']}/0"


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
    return spawn(profile, "redis", cmd, port, url(ports))


async def probe_redis(url: str, timeout: float) -> None:
    """PING must return PONG."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        if not await client.ping():
            raise RuntimeError("PING was not answered with PONG")
    finally:
        await client.aclose()
