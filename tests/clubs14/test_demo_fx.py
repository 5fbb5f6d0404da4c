"""The multi-currency demo `make run` shows (devtools/demo_fx.py): a rupee club holding a dollar
stock, its trade booked in rupees with the ECB rate on the journal entry, a valuation with the
rate of its day, and monthly dues; made once."""

from __future__ import annotations

from app.books.service import books_service
from app.clubs.documents import Club
from app.ledger.service import ledger_service
from devtools.demo_fx import DEMO_FX_CLUB, load_demo_fx_club
from tests.rooms.conftest import person


async def test_the_demo_fx_club_is_loaded_once(services: object) -> None:
    owner, admin = await person("demo-fx-owner"), await person("demo-fx-admin")
    assert await load_demo_fx_club(owner.email, admin.email) == 1
    assert await load_demo_fx_club(owner.email, admin.email) == 0
    club = await Club.find_one({"name": DEMO_FX_CLUB, "created_by": owner.user_id})
    assert club is not None and club.currency == "INR" and club.dues_amount == 100_000
    club_id = str(club.id)
    [ko] = await books_service.holdings(club_id, owner.user_id)
    assert (ko.symbol, ko.currency, ko.quantity, ko.cost_foreign) == ("KO", "USD", 5, 30_000)
    entry = await ledger_service.find_entry(f"trade:{club_id}:{owner.user_id}:demo-ko")
    assert entry is not None and entry.fx is not None and entry.fx.currency == "USD"
    [_, last] = await books_service.club_valuations(club_id)
    [position] = last.positions
    assert position.currency == "USD" and position.rate_e8 and position.market_value > 0
    assert sum((await ledger_service.balances(club_id)).values()) == 0
