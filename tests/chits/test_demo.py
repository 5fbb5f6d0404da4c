"""The chit demo data ``make run`` shows: loaded once, an ACTIVE three-ticket scheme."""

from __future__ import annotations

import pytest

from app.chits.documents import SchemeStatus
from app.chits.service import Actor, chit_service
from app.identity.documents import PlatformRole
from devtools.demo_chits import DEMO_SCHEME, load_demo_chits
from tests.identity.conftest import provision

pytestmark = pytest.mark.usefixtures("services")


async def test_the_demo_scheme_is_loaded_once_and_active() -> None:
    foreman = await provision([PlatformRole.FOREMAN], tag="foreman")
    member = await provision(tag="member")
    admin = await provision([PlatformRole.ADMIN], tag="admin")
    assert await load_demo_chits(foreman.email, member.email, admin.email) == 1
    assert await load_demo_chits(foreman.email, member.email, admin.email) == 0
    mine = await chit_service.list_schemes(Actor(member.user_id), mine=True)
    assert [(s.name, s.status, s.filled) for s in mine] == [(DEMO_SCHEME, SchemeStatus.ACTIVE, 3)]
