"""Platform admins list every club; nobody else can."""

from __future__ import annotations

import uuid

from app.identity.documents import PlatformRole
from tests.clubs.http import login
from tests.files.http import login as login_with_roles
from tests.identity.conftest import Api


async def test_admins_list_every_club_with_its_member_count(api: Api) -> None:
    owner, member = await login(api), await login(api)
    admin = await login_with_roles(api, [PlatformRole.ADMIN], tag="admin")
    name = f"Neem Growers {uuid.uuid4().hex[:6]}"
    club = await owner.ok("POST", "/api/v1/clubs", {"name": name}, status=201)
    invite = await owner.ok("POST", f"/api/v1/clubs/{club['id']}/invites", {}, status=201)
    await member.ok("POST", f"/api/v1/invites/{invite['token']}/accept")

    found = await admin.ok("GET", f"/api/v1/admin/clubs?q={name.split()[-1]}")
    assert found["total"] == 1
    row = found["clubs"][0]
    assert (row["id"], row["name"], row["members"], row["currency"]) == (
        club["id"], name, 2, "INR")  # fmt: skip
    everything = await admin.ok("GET", "/api/v1/admin/clubs?page_size=200")
    assert club["id"] in {c["id"] for c in everything["clubs"]}
    refused = await owner.call("GET", "/api/v1/admin/clubs")
    assert refused.status == 403
