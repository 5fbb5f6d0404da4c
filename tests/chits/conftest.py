"""Fixtures of the chit tests: the real services and the sandbox payment provider."""

from __future__ import annotations

import pytest

from tests.payments.sandbox_client import SandboxClient


@pytest.fixture
async def sandbox(services: object, payment_sandbox: SandboxClient) -> SandboxClient:
    """The session's sandbox provider (checkouts are created there)."""
    return payment_sandbox
