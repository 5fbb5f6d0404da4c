"""Steps the broker tests share: link a club to the sandbox through the API (with Kite's login
redirect), fund it, and have an investment proposal approved into an order."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from app.books.service import books_service
from app.market.dataset import load_catalogue
from devtools.replayer import Replayer, intraday_path
from streams.producer import EventProducer
from tests.brokers.conftest import BrokerSandbox
from tests.clubs.factories import paid_contribution
from tests.identity.conftest import Api
from tests.rooms.conftest import Person, club_of, in_a_minute, person

TICKS = 8


async def kite_login(http: Api, login_url: str) -> str:
    """Do the treasurer's part of the Kite login: open the login page, authorise, follow the
    redirect to our callback. Returns where the callback sent the browser."""
    page = await http.call("GET", login_url)
    assert page.status == 200 and b"Log in and authorise" in page.body
    query = parse_qs(urlsplit(login_url).query)
    parts = urlsplit(login_url)
    async with http.http.post(
        f"{parts.scheme}://{parts.netloc}{parts.path}",
        data={"api_key": query["api_key"][0], "redirect_params": query["redirect_params"][0]},
        allow_redirects=False,
    ) as reply:
        assert reply.status == 302, await reply.text()
        callback = reply.headers["Location"]
    back = await http.call("GET", callback, redirects=False)
    assert back.status == 302, back.body
    return back.headers["Location"]


async def link_kite(http: Api, sandbox: BrokerSandbox, club_id: str, who: Person) -> str:
    """Link ``club_id`` to a new sandbox Kite app and log in; the Kite user id."""
    key, secret, user = await sandbox.kite_app()
    linked = await http.call(
        "PUT",
        f"/api/v1/clubs/{club_id}/broker",
        token=who.token,
        json={"provider": "kite", "environment": "sandbox", "key": key, "secret": secret},
    )
    assert linked.status == 200, linked.body
    assert linked.body["status"] == "login_required" and linked.body["login_url"]
    where = await kite_login(http, linked.body["login_url"])
    assert where == f"/clubs/{club_id}?broker=linked"
    return user


async def link_alpaca(http: Api, sandbox: BrokerSandbox, club_id: str, who: Person) -> str:
    """Link ``club_id`` to new sandbox Alpaca keys; the account number."""
    key, secret, number = await sandbox.alpaca_account()
    linked = await http.call(
        "PUT",
        f"/api/v1/clubs/{club_id}/broker",
        token=who.token,
        json={"provider": "alpaca", "environment": "sandbox", "key": key, "secret": secret},
    )
    assert linked.status == 200, linked.body
    assert linked.body["status"] == "active" and linked.body["account_ref"] == number
    return number


async def alpaca_club(http: Api, sandbox: BrokerSandbox) -> tuple[Any, Person, str, str]:
    """A funded dollar club (``funded_club``) linked to new sandbox Alpaca keys; the club, its
    owner, the key (which names the account to the sandbox's controls) and the secret."""
    club, owner, _ = await funded_club()
    key, secret, _ = await sandbox.alpaca_account()
    linked = await http.call(
        "PUT",
        f"/api/v1/clubs/{club.id}/broker",
        token=owner.token,
        json={"provider": "alpaca", "key": key, "secret": secret},
    )
    assert linked.status == 200, linked.body
    return club, owner, key, secret


async def limit_buy(
    http: Api, club_id: str, token: str, symbol: str, quantity: int = 3, limit: str = "50.00"
) -> str:
    """Enter a limit buy over the API; its id."""
    made = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders",
        token=token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={
            "side": "buy",
            "kind": "limit",
            "symbol": symbol,
            "quantity": quantity,
            "limit_price": limit,
        },
    )
    assert made.status == 201, made.body
    return str(made.body["id"])


async def funded_club(
    amounts: tuple[int, int] = (600_000, 400_000), currency: str = "USD"
) -> tuple[Any, Person, Person]:
    """A club of two people who paid ``amounts`` (minor units of ``currency``) in, valued
    today. USD clubs link Alpaca; INR clubs link Kite."""
    owner, member = await person("owner"), await person("member")
    club = await club_of(owner, member, currency=currency)
    today = dt.datetime.now(dt.UTC).date()
    for who, amount in ((owner, amounts[0]), (member, amounts[1])):
        await paid_contribution(club, who.user_id, amount, today)
    await books_service.do_record_valuation(
        str(club.id), owner.user_id, valuation_date=today, prices={}
    )
    return club, owner, member


async def approved_order(
    http: Api, club_id: str, owner: Person, member: Person, symbol: str, amount: str
) -> str:
    """An investment proposal to buy ``amount`` of ``symbol``, approved by both; its order id."""
    made = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/proposals",
        token=owner.token,
        json={
            "kind": "investment",
            "title": f"Buy {symbol}",
            "side": "buy",
            "symbol": symbol,
            "amount": amount,
            "deadline": in_a_minute(),
        },
    )
    assert made.status == 201, made.body
    for who in (owner, member):
        vote = await http.call(
            "POST",
            f"/api/v1/proposals/{made.body['id']}/votes",
            json={"choice": "yes"},
            token=who.token,
        )
        assert vote.status == 200, vote.body
    closed = await http.call(
        "POST", f"/api/v1/proposals/{made.body['id']}/close", token=owner.token
    )
    assert closed.status == 200 and closed.body["status"] == "approved", closed.body
    return str(closed.body["order_id"])


async def submit(http: Api, club_id: str, order_id: str, who: Person) -> Any:
    """``POST …/submit`` with a fresh idempotency key."""
    return await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders/{order_id}/submit",
        token=who.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


async def order_of(http: Api, club_id: str, order_id: str, who: Person) -> dict[str, Any]:
    got = await http.call("GET", f"/api/v1/clubs/{club_id}/orders/{order_id}", token=who.token)
    assert got.status == 200, got.body
    return dict(got.body)


async def replay(producer: EventProducer, symbol: str, day: dt.date) -> list[int]:
    """Replay one real day of ``symbol`` at full speed; its tick prices (cents)."""
    series = load_catalogue()[symbol]
    replayer = Replayer({symbol: series}, day, day, TICKS, seconds_per_day=0.0001, loop=False)
    assert await replayer.run(producer, asyncio.Event(), max_days=1) == TICKS
    return intraday_path(next(b for b in series.bars if b.date == day), TICKS)
