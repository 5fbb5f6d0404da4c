"""Versioned event records carried on Kafka. A breaking change is a new record (``…V2``) and a
new topic version, never an edit of a published one. Money fields are integer minor units."""

from __future__ import annotations

import faust


class MarketTickV1(faust.Record, serializer="json", namespace="samooh.market.tick.v1"):
    """One price observation of one symbol.

    Fields:
        id: unique and stable for the observation (``<symbol>:<seq>``) so consumers de-duplicate.
        seq: strictly increasing per symbol (microseconds since the epoch at emission); a
            consumer keeps the highest and ignores anything older (out-of-order or re-delivered).
        ts: emission time, ISO-8601 UTC.
        symbol: ticker, upper case.
        price, open, high, low, prev_close: integer minor units (cents/paise) of ``currency``.
        volume: shares traded so far that day, or ``None`` when the source has no volume.
        trade_date: the trading day being replayed (ISO date) — the real date of the prices.
        source: which data set and licence the series comes from.
    """

    id: str
    seq: int
    ts: str
    symbol: str
    price: int
    open: int
    high: int
    low: int
    prev_close: int
    volume: int | None
    currency: str
    trade_date: str
    source: str


class PaymentEventV1(faust.Record, serializer="json", namespace="samooh.payments.event.v1"):
    """A verified, de-duplicated payment outcome from a provider (or a treasurer's approval).

    Published by the webhook endpoint (after signature check and event-id de-duplication) or by
    the manual-contribution approval, keyed by ``pool_id`` on the payments topic, and applied
    idempotently by the payments agent.

    Fields:
        id: our event id, unique per provider event: ``<provider>:<provider_event_id>``.
        provider: ``razorpay`` | ``stripe`` | ``sandbox`` | ``manual``.
        provider_event_id: the provider's event id (webhook id), or the approval id for manual.
        kind: ``payment.captured`` | ``payment.failed``.
        pool_type: ``club`` (later: ``chit``, ``campaign``).
        pool_id: the club (pool) id; also the Kafka key.
        contribution_id: our contribution id, carried through the provider in order notes.
        payment_id: the provider's payment id (``pay_…``, ``pi_…``) or the manual approval id.
        amount: integer minor units (paise) actually paid.
        currency: ISO 4217 code, e.g. ``INR``.
        occurred_at: when the provider says it happened, ISO-8601 UTC.
    """

    id: str
    provider: str
    provider_event_id: str
    kind: str
    pool_type: str
    pool_id: str
    contribution_id: str
    payment_id: str
    amount: int
    currency: str
    occurred_at: str


class ReportJobV1(faust.Record, serializer="json", namespace="samooh.reports.job.v1"):
    """A report to build (app/reports/), published once the job is stored ``queued``, keyed by
    ``job_id`` on the report-jobs topic; the reports agent builds it. Re-delivery rebuilds an
    unfinished job and skips a finished one.

    Fields:
        id: unique per request (the job id), for de-duplication.
        job_id: the stored ``ReportJob``; also the Kafka key.
        club_id: the club reported on.
        requested_by: the user id the file is for (progress goes to ``user:<id>``).
        kind: ``valuation_statement`` | ``member_status`` | ``transaction_ledger`` |
            ``member_statement``.
        format: ``csv`` | ``pdf``.
        as_of: ISO date the figures are as of, or ``None`` for the latest.
        member_id: whose member statement (``None`` for the club-wide kinds).
        requested_at: ISO-8601 UTC.
    """

    id: str
    job_id: str
    club_id: str
    requested_by: str
    kind: str
    format: str
    as_of: str | None
    member_id: str | None
    requested_at: str


class OrderCommandV1(faust.Record, serializer="json", namespace="samooh.orders.command.v1"):
    """An instruction to the broker adapter about one club order, keyed by ``club_id`` on the
    order-commands topic. Published after the order's state change committed; the broker
    handles a repeated command idempotently (by ``order_id``).

    Fields:
        id: unique per command: ``<order_id>:submit`` or ``<order_id>:cancel``.
        action: ``submit`` | ``cancel`` | ``modify`` (the new quantity and limit price).
        order_id: our order id (the broker's client order id).
        club_id: the club; also the Kafka key.
        side: ``buy`` | ``sell``.
        kind: ``market`` | ``limit``.
        symbol: ticker, upper case.
        quantity: whole shares.
        limit_price: minor units (limit orders), else ``None``.
        currency: ISO 4217 code of the club (and of the instrument: the club trades only
            instruments quoted in its own currency).
        reserved: minor units of club cash set aside for a buy (price × quantity + fees at
            the worst price the order accepts); the broker never spends more. 0 for sells.
        issued_at: ISO-8601 UTC.
    """

    id: str
    action: str
    order_id: str
    club_id: str
    side: str
    kind: str
    symbol: str
    quantity: int
    limit_price: int | None
    currency: str
    reserved: int
    issued_at: str


class BrokerUpdateV1(faust.Record, serializer="json", namespace="samooh.orders.update.v1"):
    """What the broker reports about one order, keyed by ``club_id`` on the order-fills topic
    and reconciled idempotently by the orders agent.

    Fields:
        id: unique per update (``<order_id>:accepted``, ``<order_id>:fill:<n>`` …).
        order_id, club_id: as in the command; ``club_id`` is the Kafka key.
        status: ``accepted`` | ``partially_filled`` | ``filled`` | ``cancelled`` | ``rejected``.
        fill_id: unique id of the execution this update reports (fills only), else ``None``.
        fill_quantity: shares executed in this fill (0 without a fill).
        fill_price: minor units per share of this fill (0 without a fill).
        fee: minor units charged for this fill.
        cumulative_quantity: shares the broker has executed for the order so far, this fill
            included.
        reason: why an order was rejected or cancelled (``insufficient_cash``,
            ``cancelled_by_user``, …), else ``""``.
        trade_date: the trading day of the tick that filled it (ISO date), else ``""``.
        tick_seq: the market tick's ``seq`` a fill executed against, else 0.
        occurred_at: ISO-8601 UTC.
        charges: the broker's own charges that make up ``fee``, by name (minor units; Kite:
            ``brokerage``, ``stt``, ``exchange``, ``sebi``, ``stamp_duty``, ``gst``; Alpaca:
            ``sec_fee``, ``finra_taf``), summing to ``fee``; ``None`` when the fee is the
            club's fee schedule (the paper broker). Optional: records without it read as
            ``None``.
    """

    id: str
    order_id: str
    club_id: str
    status: str
    fill_id: str | None
    fill_quantity: int
    fill_price: int
    fee: int
    cumulative_quantity: int
    reason: str
    trade_date: str
    tick_seq: int
    occurred_at: str
    charges: dict[str, int] | None = None
