#!/usr/bin/env python3
"""Install (cached), start, check and stop Samooh's local services.

The local services are real servers listening on 127.0.0.1 only:

* MongoDB wire protocol -- SecantusDB (PyPI, GPL: installed into its own virtualenv in
  the user cache, never into the app's venv), advertised as the one-node replica set
  ``secantus``;
* Kafka -- the Apache Kafka broker jars from Maven Central, one KRaft node that is both
  broker and controller;
* Redis -- Debian's ``redis-server``;
* SMTP -- the project's own mail server (``python -m devtools.mailserver``, aiosmtpd): it
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

This file is the command line only; each service's install, start, probe and stop live in
``scripts/localservices/`` (one module per service, shared helpers in ``common.py``).
"""

from __future__ import annotations

import argparse
import sys

from localservices.commands import COMMANDS
from localservices.common import ServiceError
from localservices.profile import Profile


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
