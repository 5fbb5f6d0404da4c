"""Counting votes exactly, from integers (docs/domain.md, proposals and voting).

* Weights are snapshotted when the proposal is created: one each in simple mode, the member's
  units (micro-units) in weighted mode.
* Threshold: a proposal passes when yes weight ≥ threshold × (yes + no weight); exactly at the
  threshold passes. Abstentions count toward quorum only.
* Tie: yes weight equal to no weight. The tie rule (default reject) decides that case alone; it
  can only matter at a threshold of 50 % or lower, since above it a tie is short of the bar.
* Quorum (optional): participating weight (yes + no + abstain) ÷ the total snapshot weight must
  reach ``quorum_bps``; otherwise the outcome is ``no_quorum``.
* No yes or no weight at all (only abstentions, or nothing): rejected.

All comparisons cross-multiply integers; nothing is divided or rounded to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BPS = 10_000


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    NO_QUORUM = "no_quorum"


@dataclass(frozen=True, slots=True)
class Tally:
    """Weights (same unit as the snapshot) and counts of the current votes, and what they
    decide so far. ``tie`` is True when the yes share sits exactly at the threshold."""

    yes_weight: int
    no_weight: int
    abstain_weight: int
    yes_count: int
    no_count: int
    abstain_count: int
    total_weight: int
    eligible_count: int
    quorum_met: bool
    threshold_met: bool
    tie: bool
    outcome: Outcome

    @property
    def participation_weight(self) -> int:
        return self.yes_weight + self.no_weight + self.abstain_weight

    @property
    def participation_count(self) -> int:
        return self.yes_count + self.no_count + self.abstain_count


def count(
    weights: dict[str, int],
    votes: dict[str, Choice],
    *,
    threshold_bps: int,
    quorum_bps: int | None,
    tie_approves: bool,
) -> Tally:
    """Tally ``votes`` (user id → choice) against the snapshot ``weights`` (user id → weight).

    Votes of users outside the snapshot are ignored (the service refuses them anyway).

    Raises:
        ValueError: a threshold or quorum outside 1..10000 basis points, or a negative weight.
    """
    if not 1 <= threshold_bps <= BPS:
        raise ValueError("threshold must be 1..10000 basis points")
    if quorum_bps is not None and not 1 <= quorum_bps <= BPS:
        raise ValueError("quorum must be 1..10000 basis points")
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights cannot be negative")
    sums = dict.fromkeys(Choice, 0)
    counts = dict.fromkeys(Choice, 0)
    for user, choice in votes.items():
        if user in weights:
            sums[choice] += weights[user]
            counts[choice] += 1
    total = sum(weights.values())
    participating = sum(sums.values())
    quorum_met = quorum_bps is None or participating * BPS >= quorum_bps * total
    decisive = sums[Choice.YES] + sums[Choice.NO]
    reaches_bar = decisive > 0 and sums[Choice.YES] * BPS >= threshold_bps * decisive
    tie = decisive > 0 and sums[Choice.YES] == sums[Choice.NO]
    threshold_met = reaches_bar and (tie_approves or not tie)
    if not quorum_met:
        outcome = Outcome.NO_QUORUM
    else:
        outcome = Outcome.APPROVED if threshold_met else Outcome.REJECTED
    return Tally(
        yes_weight=sums[Choice.YES], no_weight=sums[Choice.NO],
        abstain_weight=sums[Choice.ABSTAIN], yes_count=counts[Choice.YES],
        no_count=counts[Choice.NO], abstain_count=counts[Choice.ABSTAIN], total_weight=total,
        eligible_count=len(weights), quorum_met=quorum_met, threshold_met=threshold_met,
        tie=tie, outcome=outcome,
    )  # fmt: skip
