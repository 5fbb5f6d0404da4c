"""The risk questionnaire: scores, profiles, the horizon cap, bad answers, re-takes."""

from __future__ import annotations

import pytest

from app.advisory.errors import InvalidAnswers, NoRiskProfile
from app.advisory.questionnaire import RiskProfile, assess
from app.advisory.service import advisory_service
from app.extensions import Services
from tests.advisory.factories import BOLD, CAUTIOUS, MODERATE
from tests.clubs.factories import new_user


def test_scores_and_profiles() -> None:
    # Weighted points ÷ the most possible (44), as a percentage, half-even.
    assert assess(BOLD).score == 100 and assess(BOLD).profile is RiskProfile.AGGRESSIVE
    assert assess(CAUTIOUS).profile is RiskProfile.CONSERVATIVE
    moderate = assess(MODERATE)  # 9 + 6 + 3 + 2 + 6 = 26 of 44 → 59
    assert (moderate.score, moderate.profile, moderate.horizon_years) == (
        59, RiskProfile.MODERATE, 10)  # fmt: skip


def test_horizon_caps_the_profile() -> None:
    assert assess({**BOLD, "horizon": "lt3"}).profile is RiskProfile.CONSERVATIVE
    three_to_seven = assess({**BOLD, "horizon": "3to7"})
    assert three_to_seven.score >= 70 and three_to_seven.profile is RiskProfile.MODERATE


async def test_answers_kept_retaken_and_bad_answers_change_nothing(services: Services) -> None:
    user = new_user()
    with pytest.raises(NoRiskProfile):
        await advisory_service.current_profile(user)
    first = await advisory_service.do_take_questionnaire(user, CAUTIOUS)
    assert first.answers == CAUTIOUS and first.profile == "conservative"
    with pytest.raises(InvalidAnswers) as bad:
        await advisory_service.do_take_questionnaire(
            user, {**BOLD, "loss": "panic", "mood": "good"} | {"goal": ""}
        )
    problems = bad.value.details["problems"]
    assert set(problems) == {"loss", "mood", "goal"}
    assert (await advisory_service.current_profile(user)).id == first.id
    again = await advisory_service.do_take_questionnaire(user, BOLD)
    current = await advisory_service.current_profile(user)
    assert current.id == again.id and current.profile == "aggressive"
