"""Fixtures of the chit tests: the real services, the sandbox payment provider and the
sandbox SMS provider (``sms_sandbox``, tests/chits/sms.py)."""

from __future__ import annotations

import pytest

from tests.chits.sms import sms_sandbox
from tests.payments.sandbox_client import SandboxClient

__all__ = ["sms_sandbox"]


@pytest.fixture
async def sandbox(services: object, payment_sandbox: SandboxClient) -> SandboxClient:
    """The session's sandbox provider (checkouts are created there)."""
    return payment_sandbox
