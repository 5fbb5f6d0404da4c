"""The profit-reporting schedule of a funded campaign (docs/domain.md, crowdfunding, "Reporting
schedule"): which period the owner must report next, by when, and whether that is overdue.

The schedule comes from the campaign's own terms. Its periods are consecutive blocks of
``profit_period_months`` calendar months counted from the day the campaign was funded (the
business has the money from then): period *k* runs from funded day + k·P months to the day
before funded day + (k+1)·P months, each boundary counted from the funded day itself (a day
past the month's end is its last day, so 31 January monthly gives 28 or 29 February, then
31 March — never drifting). A period's report is due ``REPORT_GRACE_DAYS`` after the period
ends (45 days: SEBI's LODR Regulation 33 gives listed companies 45 days after a quarter to
publish its results).

Reports that were not rejected cover their days. The next report due covers the first day
after the funded day that no such report covers, up to the end of its scheduled period (or the
day before a later report starts, when the owner reported out of order). Pure functions: the
caller reads the campaign and its reports.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

REPORT_GRACE_DAYS = 45

DueState = Literal["upcoming", "due", "overdue"]


@dataclass(frozen=True, slots=True)
class ReportDue:
    """The next profit report a funded campaign owes. ``period_start``..``period_end`` (both
    included) is what it must cover; ``due_on`` is the last day to send it; ``state`` is
    ``upcoming`` (the period has not reached its last day), ``due`` (it has: the report can
    be sent now) or ``overdue`` (``due_on`` passed, ``days_overdue`` days ago). ``number``
    counts the scheduled periods from 1."""

    number: int
    period_start: dt.date
    period_end: dt.date
    due_on: dt.date
    state: DueState
    days_overdue: int


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved ``months`` calendar months on; a day past the target month's end becomes
    its last day (31 Jan + 1 month = 28 or 29 Feb)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def period_of(anchor: dt.date, months: int, day: dt.date) -> tuple[int, dt.date, dt.date]:
    """The scheduled period (index from 0, first day, last day) that holds ``day`` (on or
    after ``anchor``), for periods of ``months`` months counted from ``anchor``."""
    elapsed = (day.year - anchor.year) * 12 + (day.month - anchor.month)
    k = max(elapsed // months, 0)
    while k > 0 and add_months(anchor, k * months) > day:
        k -= 1
    while add_months(anchor, (k + 1) * months) <= day:
        k += 1
    return k, add_months(anchor, k * months), add_months(anchor, (k + 1) * months) - dt.timedelta(1)


def next_report_due(
    funded_on: dt.date,
    period_months: int,
    reported: Iterable[tuple[dt.date, dt.date]],
    today: dt.date,
    grace_days: int = REPORT_GRACE_DAYS,
) -> ReportDue:
    """The next report due of a campaign funded on ``funded_on`` that reports every
    ``period_months`` months, given the periods (first day, last day) of its reports that
    were not rejected, as of ``today``. Raises ``ValueError`` if ``period_months`` < 1."""
    if period_months < 1:
        raise ValueError("period_months must be at least 1")
    covered = funded_on - dt.timedelta(days=1)
    later: list[dt.date] = []
    for start, end in sorted(reported):
        if end <= covered:
            continue
        if start <= covered + dt.timedelta(days=1):
            covered = end
        else:
            later.append(start)
    first = covered + dt.timedelta(days=1)
    k, _, scheduled_end = period_of(funded_on, period_months, first)
    end = min(scheduled_end, later[0] - dt.timedelta(days=1)) if later else scheduled_end
    due_on = scheduled_end + dt.timedelta(days=grace_days)
    # a period may be reported on its last day (reports end by today)
    state: DueState = "upcoming" if today < end else "due" if today <= due_on else "overdue"
    return ReportDue(number=k + 1, period_start=first, period_end=end, due_on=due_on,
                     state=state, days_overdue=max((today - due_on).days, 0))  # fmt: skip
