"""Market fixtures: a member's access token, since every Socket.IO connection needs one."""

from __future__ import annotations

import uuid

import pytest

from app.identity.login import do_login
from app.identity.signup import do_provision_user


@pytest.fixture(scope="session")
async def access_token(services: object) -> str:
    """An ACTIVE member made through the service layer, logged in (valid 15 minutes)."""
    email, password = f"quotes-{uuid.uuid4().hex[:10]}@example.com", "Market-watcher-2012"
    await do_provision_user(email=email, password=password, full_name="Quotes")
    # Each test person logs in from an address of its own: the per-IP login limit is real.
    client_ip = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"
    pair = await do_login(email, password, None, client_ip)
    return pair.access_token
