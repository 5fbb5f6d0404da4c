"""Issue #15: a foreman names a defaulted ticket's substitute by their e-mail address or Samooh
member ID (what a person outside the scheme can tell him), sees who that is — name, member ID,
KYC — and only then admits them. Exact matches only, for that foreman only: nobody can browse
the platform's people through it."""

from __future__ import annotations

import datetime as dt

import pytest

from app.chits.errors import ChitForbidden, SubscriptionNotFound
from app.chits.service import chit_service
from app.identity import directory
from app.identity.errors import UserNotFound
from tests.chits.factories import active_scheme, person

pytestmark = pytest.mark.usefixtures("sandbox")


def at(month: int, day: int = 10) -> dt.datetime:
    return dt.datetime(2031, month, day, 10, 0, tzinfo=dt.UTC)


async def test_a_substitute_is_found_by_exact_email_or_member_id_for_the_foreman_only() -> None:
    _, boss, people, subs = await active_scheme()
    gone = str(subs[2].id)
    await chit_service.do_mark_default(gone, boss, "unpaid", now=at(1, 14))
    ready = await person("ready")
    account = await directory.user(ready.user_id)
    assert account is not None and account.member_id is not None

    by_email = await chit_service.substitute_candidate(gone, boss, f"  {account.email.upper()} ")
    by_id = await chit_service.substitute_candidate(gone, boss, account.member_id.lower())
    assert by_email == by_id == {
        "user_id": ready.user_id, "full_name": account.full_name,
        "member_id": account.member_id, "kyc_verified": True, "holds_ticket": False,
    }  # fmt: skip
    # A subscriber of the scheme is found, but shown as holding a ticket already.
    holder = await directory.user(people[1].user_id)
    assert holder is not None
    seen = await chit_service.substitute_candidate(gone, boss, holder.email)
    assert seen["holds_ticket"] is True
    # Someone without KYC is found, and shown as not verified (admitting them is refused).
    fresh = await directory.user((await person("fresh", kyc=False)).user_id)
    assert fresh is not None
    assert (await chit_service.substitute_candidate(gone, boss, fresh.email))[
        "kyc_verified"
    ] is False

    # No partial matches, no names, no ids: nobody is found.
    for who in (account.email[:-3], account.full_name, ready.user_id, account.member_id[:-1]):
        with pytest.raises(UserNotFound) as missing:
            await chit_service.substitute_candidate(gone, boss, who)
        assert (missing.value.status, missing.value.code) == (404, "user_not_found")
    # Only the scheme's foreman may look (to anyone else the ticket is not there).
    with pytest.raises((ChitForbidden, SubscriptionNotFound)):
        await chit_service.substitute_candidate(gone, people[1], account.email)

    taken = await chit_service.do_substitute(gone, boss, by_email["user_id"])
    assert taken.ticket == subs[2].ticket and taken.user_id == ready.user_id
