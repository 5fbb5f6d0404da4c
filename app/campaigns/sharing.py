"""Splitting a profit pool among investors: pro-rata to what each invested, in whole paise,
by the largest-remainder method (DOMAIN.md, "Money representation": every split sums exactly
to the whole).

Rule: each investor first gets ``floor(pool × invested / total)``; the paise left over (fewer
than the number of investors) go one each to the investors with the largest remainders
``pool × invested mod total``. Tie order, stated and deterministic: larger remainder first,
then larger investment, then the smaller user id (plain string order). The input order never
matters: the result is keyed and sorted by user id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Part:
    """One investor's part: ``user_id``, ``invested`` (paise, the weight) and ``amount``
    (paise of the pool)."""

    user_id: str
    invested: int
    amount: int


def profit_pool(profit: int, share_bps: int) -> int:
    """The investors' pool in paise: ``profit × share_bps / 10 000`` rounded down (investors
    never receive more than the stated share). ``profit_pool(1_000_001, 2_500)`` → 250 000.

    Raises:
        ValueError: a negative profit or a share outside 0–10 000 bps.
    """
    if profit < 0 or not 0 <= share_bps <= 10_000:
        raise ValueError("profit must be ≥ 0 and the share 0–10000 basis points")
    return profit * share_bps // 10_000


def split_pro_rata(pool: int, investments: Iterable[tuple[str, int]]) -> list[Part]:
    """Split ``pool`` paise over ``(user_id, invested paise)`` pairs (a user appearing several
    times is summed first). Returns one ``Part`` per user with a positive investment, sorted
    by user id; the amounts sum exactly to ``pool`` (0 parts when nobody invested).

    Raises:
        ValueError: a negative pool or investment, or a positive pool with no investment.
    """
    if pool < 0:
        raise ValueError("the pool cannot be negative")
    weights: dict[str, int] = {}
    for user_id, invested in investments:
        if invested < 0:
            raise ValueError("an investment cannot be negative")
        weights[user_id] = weights.get(user_id, 0) + invested
    weights = {user: w for user, w in weights.items() if w > 0}
    total = sum(weights.values())
    if total == 0:
        if pool:
            raise ValueError("nobody to share a pool with")
        return []
    floors: dict[str, int] = {}
    remainders: dict[str, int] = {}
    for user, weight in weights.items():
        floors[user], remainders[user] = divmod(pool * weight, total)
    left = pool - sum(floors.values())
    order = sorted(weights, key=lambda user: (-remainders[user], -weights[user], user))
    for user in order[:left]:
        floors[user] += 1
    return [Part(user, weights[user], floors[user]) for user in sorted(weights)]
