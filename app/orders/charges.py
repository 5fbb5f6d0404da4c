"""What a real broker charges for one fill, by its published rates (docs/domain.md, "Broker
charges"): amounts in minor units of the fill's currency, each rounded once.

**Zerodha (Kite Connect), equity delivery (product CNC)** — https://zerodha.com/charges, the
rates in force from 1 October 2024. Kite's trades carry no charges: they are computed here for
each trade at those rates when a fill is booked, and settled against Kite's contract note (its
"virtual contract note" API, per order) once the order ends (app/brokers/service.py
``do_settle_charges_due``):

* brokerage: ₹0 (delivery is free at Zerodha);
* STT: 0.1 % of the value, buy and sell, rounded to the rupee (as Zerodha's note says);
* exchange transaction charges: NSE 0.00297 %, BSE 0.00375 % of the value;
* SEBI turnover fees: ₹10 per crore (0.0001 %) of the value;
* stamp duty: 0.015 % of the value, buys only;
* GST: 18 % of (brokerage + exchange charges + SEBI fees).

Every amount but STT is rounded half-even to the paisa; GST on the rounded amounts. Depository
(DP) charges are per scrip and day on the demat statement, not per trade: not included.

**Alpaca** — commission-free; on sales it passes on the regulators' fees
(https://docs.alpaca.markets/docs/regulatory-fees):

* SEC fee (Section 31): $27.80 per $1,000,000 of the sale's value, rounded up to the cent;
* FINRA trading activity fee: $0.000166 per share sold, rounded up to the cent, at most $8.30
  per trade.

Buys carry no charges at Alpaca.
"""

from __future__ import annotations

from fractions import Fraction

# Zerodha, equity delivery: parts per 10^8 of a fill's value.
KITE_STT = 100_000  # 0.1 %
KITE_EXCHANGE = {"NSE": 2_970, "BSE": 3_750}  # 0.00297 %, 0.00375 %
KITE_SEBI = 100  # ₹10 per crore
KITE_STAMP_BUY = 15_000  # 0.015 %
KITE_GST_PCT = 18
PER = 10**8

# Alpaca's regulatory fees on sales.
SEC_PER_MILLION_CENTS = 2_780  # $27.80 per $1,000,000
TAF_PER_SHARE_MICRO_CENTS = 16_600  # $0.000166 a share = 0.0166 cents = 16,600 / 10^6 cents
TAF_MAX_CENTS = 830  # $8.30 a trade

KITE_CHARGES = ("brokerage", "stt", "exchange", "sebi", "stamp_duty", "gst")
ALPACA_CHARGES = ("sec_fee", "finra_taf")


def _ceil(value: Fraction) -> int:
    return -(-value.numerator // value.denominator)


def kite_charges(side: str, value: int, exchange: str = "NSE") -> dict[str, int]:
    """Zerodha's charges on a delivery fill of ``value`` paise (``side`` ``buy``/``sell``,
    ``exchange`` ``NSE``/``BSE``), by name in ``KITE_CHARGES`` order, paise. Raises
    ``KeyError`` for another exchange."""
    rate = KITE_EXCHANGE[exchange]
    brokerage = 0
    stt = round(Fraction(value * KITE_STT, PER * 100)) * 100  # to the rupee
    exchange_charge = round(Fraction(value * rate, PER))
    sebi = round(Fraction(value * KITE_SEBI, PER))
    stamp = round(Fraction(value * KITE_STAMP_BUY, PER)) if side == "buy" else 0
    gst = round(Fraction((brokerage + exchange_charge + sebi) * KITE_GST_PCT, 100))
    return {"brokerage": brokerage, "stt": stt, "exchange": exchange_charge, "sebi": sebi,
            "stamp_duty": stamp, "gst": gst}  # fmt: skip


def alpaca_charges(side: str, quantity: int, value: int) -> dict[str, int]:
    """Alpaca's regulatory fees on a fill of ``quantity`` shares worth ``value`` cents, by name
    in ``ALPACA_CHARGES`` order, cents; nothing on a buy."""
    if side != "sell" or value <= 0:
        return {}
    sec = _ceil(Fraction(value * SEC_PER_MILLION_CENTS, 100_000_000))
    taf = min(_ceil(Fraction(quantity * TAF_PER_SHARE_MICRO_CENTS, 10**6)), TAF_MAX_CENTS)
    return {"sec_fee": sec, "finra_taf": taf}


def charges_for(broker: str | None, side: str, symbol: str, quantity: int,
                value: int) -> dict[str, int] | None:  # fmt: skip
    """The charges of ``broker`` (``kite``, ``alpaca``) on a fill, or None for a broker with
    none of its own (the paper broker: the club's fee schedule applies). A Kite symbol names
    its exchange as ``BSE:X`` (else NSE)."""
    if broker == "kite":
        exchange = symbol.split(":", 1)[0] if ":" in symbol else "NSE"
        return kite_charges(side, value, exchange if exchange in KITE_EXCHANGE else "NSE")
    if broker == "alpaca":
        return alpaca_charges(side, quantity, value)
    return None
