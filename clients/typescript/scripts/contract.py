"""Write the server's contract documents for the TypeScript client's generator: the AsyncAPI
document (``/asyncapi.json``: every Socket.IO event and payload) and the OpenAPI document
(``/openapi.json``: every REST operation), both built from the app without any service
running (``create_app()`` connects to nothing).

    .venv/bin/python clients/typescript/scripts/contract.py OUT_DIR

writes ``OUT_DIR/asyncapi.json`` and ``OUT_DIR/openapi.json``; then
``npm run generate -- OUT_DIR`` in ``clients/typescript`` writes ``src/generated/``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from app.asyncapi import asyncapi_document
from app.config import Settings
from app.web import create_app


async def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    """``(asyncapi, openapi)`` as the server serves them."""
    # The same documents whatever runs it: default settings, not this shell's or a .env file's.
    for name in [n for n in os.environ if n.startswith("SAMOOH_")]:
        del os.environ[name]
    app = create_app(Settings(environment="dev", _env_file=None))  # type: ignore[call-arg]
    client = app.test_client()
    response = await client.get("/openapi.json")
    if response.status_code != 200:
        raise RuntimeError(f"/openapi.json answered {response.status_code}")
    openapi: dict[str, Any] = await response.get_json()
    return asyncapi_document(), openapi


def main(out: Path) -> None:
    """Write both documents into ``out`` (created if missing), as the server builds them."""
    out.mkdir(parents=True, exist_ok=True)
    asyncapi, openapi = asyncio.run(documents())
    for name, document in (("asyncapi.json", asyncapi), ("openapi.json", openapi)):
        (out / name).write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "contract"))
