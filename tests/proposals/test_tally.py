"""Vote counting rules, exactly (docs/domain.md, proposals and voting)."""

from __future__ import annotations

import pytest

from app.proposals.tally import Choice, Outcome, count

Y, N, A = Choice.YES, Choice.NO, Choice.ABSTAIN
SIMPLE = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}


def test_simple_majority_above_the_threshold_approves() -> None:
    tally = count(SIMPLE, {"a": Y, "b": Y, "c": Y, "d": N}, threshold_bps=6000, quorum_bps=None,
                  tie_approves=False)  # fmt: skip
    assert (tally.yes_count, tally.no_count, tally.outcome) == (3, 1, Outcome.APPROVED)


def test_exactly_at_the_threshold_passes_under_either_tie_rule() -> None:
    votes = {"a": Y, "b": Y, "c": Y, "d": N, "e": N}  # 3 of 5 = exactly 60 %
    for tie_approves in (False, True):
        tally = count(SIMPLE, votes, threshold_bps=6000, quorum_bps=None,
                      tie_approves=tie_approves)  # fmt: skip
        assert not tally.tie and tally.threshold_met and tally.outcome == Outcome.APPROVED


def test_three_yes_one_no_passes_a_75_percent_threshold_under_the_default_rule() -> None:
    tally = count(SIMPLE, {"a": Y, "b": Y, "c": Y, "d": N}, threshold_bps=7500, quorum_bps=None,
                  tie_approves=False)  # fmt: skip
    assert (tally.tie, tally.outcome) == (False, Outcome.APPROVED)
    below = count(SIMPLE, {"a": Y, "b": Y, "c": N, "d": N, "e": Y}, threshold_bps=7500,
                  quorum_bps=None, tie_approves=False)  # fmt: skip
    assert below.outcome == Outcome.REJECTED  # 3 of 5 = 60 % < 75 %


def test_a_tie_is_yes_equal_to_no_and_the_rule_decides_only_that() -> None:
    fifty = {"a": Y, "b": N}
    for threshold in (5000, 4000):
        reject = count(SIMPLE, fifty, threshold_bps=threshold, quorum_bps=None,
                       tie_approves=False)  # fmt: skip
        approve = count(SIMPLE, fifty, threshold_bps=threshold, quorum_bps=None,
                        tie_approves=True)  # fmt: skip
        assert reject.tie and approve.tie
        assert (reject.outcome, approve.outcome) == (Outcome.REJECTED, Outcome.APPROVED)
    # Above 50 % a tie falls short of the threshold whatever the rule says.
    high = count(SIMPLE, fifty, threshold_bps=6000, quorum_bps=None, tie_approves=True)
    assert high.tie and not high.threshold_met and high.outcome == Outcome.REJECTED
    # 2 yes of 5 at a 40 % threshold is exactly at it, not a tie: it passes under "reject".
    forty = count(SIMPLE, {"a": Y, "b": Y, "c": N, "d": N, "e": N}, threshold_bps=4000,
                  quorum_bps=None, tie_approves=False)  # fmt: skip
    assert not forty.tie and forty.outcome == Outcome.APPROVED


def test_abstentions_count_toward_quorum_only() -> None:
    weights = {"a": 1, "b": 1, "c": 1, "d": 1}
    votes = {"a": Y, "b": A, "c": A}
    tally = count(weights, votes, threshold_bps=6000, quorum_bps=7500, tie_approves=False)
    assert tally.quorum_met and tally.outcome == Outcome.APPROVED  # 1 yes of 1 decisive
    assert tally.participation_count == 3 and tally.abstain_weight == 2
    only_abstain = count(weights, {"a": A}, threshold_bps=6000, quorum_bps=None,
                         tie_approves=True)  # fmt: skip
    assert only_abstain.outcome == Outcome.REJECTED and not only_abstain.tie


def test_quorum_missed_wins_over_everything() -> None:
    tally = count(SIMPLE, {"a": Y, "b": Y}, threshold_bps=5000, quorum_bps=5000,
                  tie_approves=False)  # fmt: skip
    assert (tally.quorum_met, tally.outcome) == (False, Outcome.NO_QUORUM)
    exactly = count({"a": 1, "b": 1, "c": 1, "d": 1}, {"a": Y, "b": Y}, threshold_bps=5000,
                    quorum_bps=5000, tie_approves=False)  # fmt: skip
    assert exactly.quorum_met and exactly.outcome == Outcome.APPROVED  # quorum reached at 50 %


def test_weighted_mode_uses_units_not_heads() -> None:
    # One big holder outweighs three small ones.
    weights = {"big": 7_000_000, "s1": 1_000_000, "s2": 1_000_000, "s3": 1_000_000}
    votes = {"big": Y, "s1": N, "s2": N, "s3": N}
    tally = count(weights, votes, threshold_bps=6000, quorum_bps=None, tie_approves=False)
    assert (tally.yes_count, tally.no_count) == (1, 3)
    assert tally.outcome == Outcome.APPROVED  # 70 % of the cast weight
    above = count({"x": 6_000_001, "y": 4_000_000}, {"x": Y, "y": N}, threshold_bps=6000,
                  quorum_bps=None, tie_approves=False)  # fmt: skip
    assert not above.tie and above.outcome == Outcome.APPROVED  # one micro-unit above 60 %
    exact = count({"x": 6_000_000, "y": 4_000_000}, {"x": Y, "y": N}, threshold_bps=6000,
                  quorum_bps=None, tie_approves=False)  # fmt: skip
    assert not exact.tie and exact.outcome == Outcome.APPROVED  # exactly 60 % passes
    short = count({"x": 5_999_999, "y": 4_000_001}, {"x": Y, "y": N}, threshold_bps=6000,
                  quorum_bps=None, tie_approves=True)  # fmt: skip
    assert not short.tie and short.outcome == Outcome.REJECTED  # one micro-unit short
    tied = count({"x": 5_000_000, "y": 5_000_000}, {"x": Y, "y": N}, threshold_bps=5000,
                 quorum_bps=None, tie_approves=True)  # fmt: skip
    assert tied.tie and tied.outcome == Outcome.APPROVED


def test_votes_outside_the_snapshot_are_ignored() -> None:
    tally = count({"a": 1}, {"a": N, "late": Y}, threshold_bps=5000, quorum_bps=None,
                  tie_approves=False)  # fmt: skip
    assert (tally.yes_count, tally.no_count, tally.outcome) == (0, 1, Outcome.REJECTED)


@pytest.mark.parametrize("threshold", [0, 10_001])
def test_nonsense_rules_are_refused(threshold: int) -> None:
    with pytest.raises(ValueError, match="threshold"):
        count(SIMPLE, {}, threshold_bps=threshold, quorum_bps=None, tie_approves=False)
