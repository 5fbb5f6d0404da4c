"""Read what the local mail server stored (dev and test only): newest first."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# The codes Samooh mails are 6 digits, on their own.
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def extract_code(body: str) -> str | None:
    """The first 6-digit code in ``body``, or None."""
    match = _CODE.search(body)
    return match.group(1) if match else None


def read_outbox(folder: Path, *, to: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Messages in ``folder`` (newest first), only those sent to ``to`` when given.

    Each is ``{id, received_at, from, to, subject, body, code}``. A missing folder is an empty
    outbox.
    """
    if not folder.is_dir():
        return []
    wanted = to.strip().lower() if to else None
    found: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json"), reverse=True):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if wanted is None or wanted in record.get("to", []):
            found.append(record)
            if len(found) >= limit:
                break
    return found
