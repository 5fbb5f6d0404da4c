"""``python -m app.ops``: take, restore, prune and verify backups (app/ops/backup.py).

    python -m app.ops backup                  # a new backup under SAMOOH_BACKUP_DIR, then prune
    python -m app.ops restore <folder> <db>   # into a database that holds no data, then verify
    python -m app.ops verify [<db>]           # journal entries, trial balances, audit chains
    python -m app.ops prune                   # apply the retention policy
    python -m app.ops list

Exit status 0 when everything holds, 1 when a check fails or a backup is damaged.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from pymongo import AsyncMongoClient

from app.config import settings_or_exit
from app.ops.backup import (
    BackupError,
    create_backup,
    list_backups,
    prune_backups,
    restore_backup,
    verify_database,
)


async def _run(args: argparse.Namespace) -> int:
    settings = settings_or_exit("ops")
    root = Path(settings.backup_dir)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(settings.mongodb_url)
    try:
        if args.command == "backup":
            backup = await create_backup(client, settings.mongodb_database, root)
            print(f"backup {backup.folder}: {len(backup.collections)} collections, "
                  f"{backup.documents} documents")  # fmt: skip
            for gone in prune_backups(root, settings.backup_keep, settings.backup_max_age_days):
                print(f"pruned {gone}")
            return 0
        if args.command == "restore":
            backup = await restore_backup(client, Path(args.folder), args.database)
            print(f"restored {backup.documents} documents of {backup.database} "
                  f"({backup.taken_at.isoformat()}) into {args.database}")  # fmt: skip
            return await _verify(client, args.database)
        if args.command == "verify":
            return await _verify(client, args.database or settings.mongodb_database)
        if args.command == "prune":
            for gone in prune_backups(root, settings.backup_keep, settings.backup_max_age_days):
                print(f"pruned {gone}")
            return 0
        for folder in list_backups(root):
            print(folder)
        return 0
    except BackupError as exc:
        print(f"samooh ops: {exc}", file=sys.stderr)
        return 1
    finally:
        await client.close()


async def _verify(client: AsyncMongoClient[dict[str, object]], database: str) -> int:
    report = await verify_database(client, database)
    print(f"{database}: {report.entries} journal entries in {report.pools} pools, "
          f"{report.records} audit records in {report.chains} chains")  # fmt: skip
    for problem in report.problems:
        print(f"  PROBLEM: {problem}")
    return 0 if report.ok else 1


def main() -> None:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m app.ops", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("backup", help="take a backup, then apply the retention policy")
    restore = sub.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("folder")
    restore.add_argument("database")
    verify = sub.add_parser("verify", help="check journal, trial balances and audit chains")
    verify.add_argument("database", nargs="?")
    sub.add_parser("prune", help="apply the retention policy")
    sub.add_parser("list", help="list the finished backups")
    raise SystemExit(asyncio.run(_run(parser.parse_args())))


if __name__ == "__main__":
    main()
