"""The profit-reporting schedule (docs/domain.md, crowdfunding, "Reporting schedule"): periods
of the campaign's term counted from the funded day without drift, the first uncovered day, the
gap a report out of order leaves, rejected reports covering nothing, and the due / overdue
states."""

from __future__ import annotations

import datetime as dt

import pytest

from app.campaigns.documents import (
    Campaign,
    CampaignStatus,
    FundingModel,
    PledgePolicy,
    ProfitReport,
    ProfitReportStatus,
)
from app.campaigns.schedule import add_months, next_report_due, period_of
from app.campaigns.service import campaign_service

D = dt.date


def test_months_are_counted_from_the_anchor_and_clamped_to_the_month_end() -> None:
    assert add_months(D(2027, 1, 31), 1) == D(2027, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)  # a leap year
    assert add_months(D(2027, 1, 31), 2) == D(2027, 3, 31)  # no drift from February
    assert add_months(D(2026, 11, 15), 3) == D(2027, 2, 15)
    assert add_months(D(2026, 12, 5), 12) == D(2027, 12, 5)
    # Funded 31 January, monthly: 31 Jan–27 Feb, 28 Feb–30 Mar, 31 Mar–29 Apr.
    anchor = D(2027, 1, 31)
    assert period_of(anchor, 1, D(2027, 1, 31)) == (0, D(2027, 1, 31), D(2027, 2, 27))
    assert period_of(anchor, 1, D(2027, 2, 27)) == (0, D(2027, 1, 31), D(2027, 2, 27))
    assert period_of(anchor, 1, D(2027, 2, 28)) == (1, D(2027, 2, 28), D(2027, 3, 30))
    assert period_of(anchor, 1, D(2027, 4, 1)) == (2, D(2027, 3, 31), D(2027, 4, 29))
    assert period_of(D(2026, 12, 5), 3, D(2027, 6, 4)) == (1, D(2027, 3, 5), D(2027, 6, 4))


def test_the_first_period_is_due_45_days_after_it_ends() -> None:
    funded = D(2026, 12, 5)  # quarterly
    running = next_report_due(funded, 3, [], D(2027, 1, 20))
    assert (running.number, running.period_start, running.period_end) == (
        1, D(2026, 12, 5), D(2027, 3, 4))  # fmt: skip
    assert running.due_on == D(2027, 4, 18) and running.state == "upcoming"
    assert next_report_due(funded, 3, [], D(2027, 3, 4)).state == "due"  # its last day
    assert next_report_due(funded, 3, [], D(2027, 4, 18)).state == "due"
    late = next_report_due(funded, 3, [], D(2027, 4, 21))
    assert late.state == "overdue" and late.days_overdue == 3
    # Years later with nothing reported, the first period is still the one owed.
    forgotten = next_report_due(funded, 3, [], D(2029, 1, 1))
    assert forgotten.number == 1 and forgotten.period_end == D(2027, 3, 4)


def test_reports_cover_their_days_and_the_next_report_starts_after_them() -> None:
    funded = D(2026, 12, 5)
    q1 = (D(2026, 12, 5), D(2027, 3, 4))
    after = next_report_due(funded, 3, [q1], D(2027, 3, 10))
    assert (after.number, after.period_start, after.period_end, after.due_on) == (
        2, D(2027, 3, 5), D(2027, 6, 4), D(2027, 7, 19))  # fmt: skip
    assert after.state == "upcoming"
    # A report that ran past the scheduled end leaves the rest of the next period to report.
    long = (D(2026, 12, 5), D(2027, 4, 10))
    rest = next_report_due(funded, 3, [long], D(2027, 7, 1))
    assert (rest.number, rest.period_start, rest.period_end, rest.state) == (
        2, D(2027, 4, 11), D(2027, 6, 4), "due")  # fmt: skip
    # Days before funding (allowed from the day it opened) are not required, but a report
    # that reaches past the funded day covers those days.
    early = (D(2026, 11, 20), D(2026, 12, 31))
    assert next_report_due(funded, 3, [early], D(2027, 1, 2)).period_start == D(2027, 1, 1)
    before = (D(2026, 11, 1), D(2026, 11, 30))
    assert next_report_due(funded, 3, [before], D(2027, 1, 2)).period_start == funded


def test_a_report_sent_out_of_order_leaves_the_gap_due_first() -> None:
    funded = D(2026, 12, 5)
    q2 = (D(2027, 3, 5), D(2027, 6, 4))
    gap = next_report_due(funded, 3, [q2], D(2027, 6, 10))
    assert (gap.number, gap.period_start, gap.period_end, gap.state, gap.days_overdue) == (
        1, D(2026, 12, 5), D(2027, 3, 4), "overdue", 53)  # fmt: skip
    # A gap inside a period ends the day before the later report starts; due dates keep the
    # period's end.
    parts = [(D(2026, 12, 5), D(2027, 1, 31)), (D(2027, 2, 15), D(2027, 3, 4))]
    hole = next_report_due(funded, 3, list(reversed(parts)), D(2027, 5, 1))
    assert (hole.period_start, hole.period_end, hole.due_on, hole.state) == (
        D(2027, 2, 1), D(2027, 2, 14), D(2027, 4, 18), "overdue")  # fmt: skip
    with pytest.raises(ValueError, match="at least 1"):
        next_report_due(funded, 0, [], D(2027, 1, 1))


def _campaign(status: CampaignStatus, closed: dt.datetime | None) -> Campaign:
    return Campaign.model_construct(
        owner_id="o", title="Oven", story="s", category="food", city="Pune", goal=1_000_000,
        min_investment=10_000, max_investment=1_000_000, profit_share_bps=2000,
        profit_period_months=3, starts_on="2026-12-01",
        ends_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), funding_model=FundingModel.ALL_OR_NOTHING,
        pledge_policy=PledgePolicy.PART_FILL, status=status, closed_at=closed,
        live_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        created_at=dt.datetime(2026, 11, 30, tzinfo=dt.UTC),
    )  # fmt: skip


def _report(start: str, end: str, status: ProfitReportStatus) -> ProfitReport:
    return ProfitReport.model_construct(
        campaign_id="c", owner_id="o", period_start=start, period_end=end, profit=100_000,
        pool=20_000, status=status,
    )  # fmt: skip


def test_the_campaign_schedule_runs_from_the_funded_day_and_ignores_rejected_reports() -> None:
    funded_at = dt.datetime(2026, 12, 5, 16, 30, tzinfo=dt.UTC)
    campaign = _campaign(CampaignStatus.FUNDED, funded_at)
    today = D(2027, 4, 20)
    due = campaign_service.report_due(campaign, [], today)
    assert due is not None and due.period_start == D(2026, 12, 5) and due.state == "overdue"
    rejected = _report("2026-12-05", "2027-03-04", ProfitReportStatus.REJECTED)
    waiting = _report("2026-12-05", "2027-03-04", ProfitReportStatus.SUBMITTED)
    assert campaign_service.report_due(campaign, [rejected], today) == due
    then = campaign_service.report_due(campaign, [rejected, waiting], today)
    assert then is not None and (then.number, then.period_start, then.state) == (
        2, D(2027, 3, 5), "upcoming")  # fmt: skip
    for status in (CampaignStatus.LIVE, CampaignStatus.FAILED, CampaignStatus.CANCELLED):
        assert campaign_service.report_due(_campaign(status, funded_at), [], today) is None
