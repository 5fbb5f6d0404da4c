"""The nightly chit-score run: every subscriber's score stored once per day (a re-run the same
day, or a second worker, stores nothing), the same figures as the score on demand, and the
latest nightly score shown next to the live one."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.chits.documents import ChitScoreSnapshot
from app.chits.errors import ChitForbidden
from app.chits.service import chit_service
from tests.chits.factories import active_scheme, pay

pytestmark = pytest.mark.usefixtures("sandbox")


async def test_scores_are_recomputed_once_a_day() -> None:
    scheme, boss, people, subs = await active_scheme(subscribers=3, chit_amount="30000.00",
                                                     max_discount="9000.00")  # fmt: skip
    await pay(subs[1], people[1], dt.datetime(2031, 1, 1, tzinfo=dt.UTC))  # on time
    day = dt.date(2031, 1, 2)
    ids = [p.user_id for p in people]
    # two workers at once, then a re-run: one snapshot per person and day
    first = await asyncio.gather(chit_service.do_nightly_scores(day),
                                 chit_service.do_nightly_scores(day))  # fmt: skip
    assert sum(first) >= len(people)
    assert await chit_service.do_nightly_scores(day) == 0
    stored = await ChitScoreSnapshot.find({"day": day.isoformat(),
                                           "user_id": {"$in": ids}}).to_list()  # fmt: skip
    assert sorted(s.user_id for s in stored) == sorted(ids)
    for snapshot in stored:
        live = await chit_service.chit_score(snapshot.user_id, people[ids.index(snapshot.user_id)])
        assert snapshot.score == live["score"] and snapshot.factors == live["factors"]
    # the next night: everyone again
    assert await chit_service.do_nightly_scores(day + dt.timedelta(days=1)) >= len(people)
    latest = await chit_service.nightly_score(people[1].user_id, people[1])
    assert latest is not None and latest.day == "2031-01-03"
    with pytest.raises(ChitForbidden):
        await chit_service.nightly_score(people[1].user_id, people[2])
    _ = (scheme, boss)
