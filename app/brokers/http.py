"""What both broker adapters share: one HTTP call with the broker's error words mapped to the
orders domain's broker errors, and prices from the broker's decimals to minor units."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import aiohttp

from app.orders.broker import BrokerUnavailable
from app.orders.documents import Order
from app.realtime.eventlog import iso, utcnow
from streams.records import BrokerUpdateV1

TIMEOUT_SECONDS = 8.0


def to_minor(value: object) -> int:
    """A broker's decimal price (``"123.45"`` or ``123.45``) in minor units, half-even.
    Raises ``ValueError`` for something that is not a finite number."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a price: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not a price: {value!r}")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def to_decimal(minor: int) -> str:
    """Minor units as the broker's two-place decimal string (``12345`` → ``"123.45"``)."""
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


async def call(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    form: dict[str, str] | None = None,
    body: Any = None,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One HTTP request; returns (status, parsed JSON or None). Raises ``BrokerUnavailable``
    when the broker cannot be reached, times out, or answers 429/5xx."""
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.request(
                method, url, headers=headers, data=form, json=body, params=params
            ) as response,
        ):
            raw = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise BrokerUnavailable(f"the broker could not be reached: {exc}") from exc
    except (ValueError, TypeError, LookupError) as exc:  # a URL or header aiohttp cannot send
        raise BrokerUnavailable(f"the request to the broker could not be made: {exc}") from exc
    if status == 429 or status >= 500:
        raise BrokerUnavailable(f"the broker answered {status}")
    if not raw:
        return status, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


def broker_update(order: Order, suffix: str, status: str, **fields: Any) -> BrokerUpdateV1:
    """The ``BrokerUpdateV1`` an adapter reports for ``order`` (id ``<order id>:<suffix>``, so
    a re-read of the same broker event is the same record): no fill unless ``fields`` give one
    (``fill_id``, ``fill_quantity``, ``fill_price`` and ``fee`` in minor units)."""
    base: dict[str, Any] = {
        "fill_id": None,
        "fill_quantity": 0,
        "fill_price": 0,
        "fee": 0,
        "cumulative_quantity": order.filled_quantity,
        "reason": "",
        "trade_date": "",
        "tick_seq": 0,
        "charges": None,
    }
    base.update(fields)
    return BrokerUpdateV1(
        id=f"{order.id}:{suffix}",
        order_id=str(order.id),
        club_id=order.club_id,
        status=status,
        occurred_at=iso(utcnow()),
        **base,
    )
