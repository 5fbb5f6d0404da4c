"""Which functions install, start, probe and address each service; which URLs are external."""

from __future__ import annotations

import os
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from localservices import kafka, mongo, redis, smtp
from localservices.common import ENV_VARS, SERVICES, ServiceError, say
from localservices.profile import Launched, Profile

INSTALLERS: dict[str, Callable[[], None]] = {
    "mongodb": mongo.install_secantus,
    "kafka": kafka.install_kafka,
    "redis": redis.install_redis,
    "smtp": smtp.install_smtp,
}

STARTERS: dict[str, Callable[[Profile, dict[str, int]], Launched]] = {
    "mongodb": mongo.start_mongodb,
    "kafka": kafka.start_kafka,
    "redis": redis.start_redis,
    "smtp": smtp.start_smtp,
}

# readiness probes (each raises unless the service really answers)
PROBES: dict[str, Callable[[str, float], Coroutine[Any, Any, None]]] = {
    "mongodb": mongo.probe_mongodb,
    "kafka": kafka.probe_kafka,
    "redis": redis.probe_redis,
    "smtp": smtp.probe_smtp,
}

URLS: dict[str, Callable[[dict[str, int]], str]] = {
    "mongodb": mongo.url,
    "kafka": kafka.url,
    "redis": redis.url,
    "smtp": smtp.url,
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


def url_for(svc: str, ports: dict[str, int]) -> str:
    """The connection URL (or bootstrap list) of a locally started service."""
    return URLS[svc](ports)


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
