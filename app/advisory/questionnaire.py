"""The risk questionnaire (DOMAIN.md, "Robo-advice"; issue #17): five questions — horizon,
income stability, loss tolerance, experience, goal — each answer worth 0–4 points, weighted;
the score (0–100) decides the profile, and the horizon caps it.

Scoring: score = round(100 × Σ weight × points ÷ (4 × Σ weight)), half-even.
Profile: score < 40 conservative, < 70 moderate, otherwise aggressive; a horizon under 3 years
is conservative whatever the score, under 7 years at most moderate (money needed soon should not
ride an aggressive mix). Each profile maps to the optimiser's objective, the largest weight of
one holding, and a strategy label.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from app.advisory.engine import Objective


class RiskProfile(StrEnum):
    """The three profiles."""

    CONSERVATIVE = "conservative"
    MODERATE = "moderate"
    AGGRESSIVE = "aggressive"


class Strategy(StrEnum):
    """Strategy labels shown with a recommendation."""

    INCOME = "income"
    BALANCED = "balanced"
    GROWTH = "growth"


@dataclass(frozen=True, slots=True)
class Option:
    """One answer: its ``value`` (sent by clients), a label, and its points (0–4)."""

    value: str
    label: str
    points: int


@dataclass(frozen=True, slots=True)
class Question:
    """One question with its weight in the score."""

    id: str
    text: str
    weight: int
    options: tuple[Option, ...]


QUESTIONS: tuple[Question, ...] = (
    Question("horizon", "When will you need most of this money?", 3, (
        Option("lt3", "In less than 3 years", 0),
        Option("3to7", "In 3 to 7 years", 2),
        Option("7to15", "In 7 to 15 years", 3),
        Option("gt15", "In more than 15 years", 4),
    )),
    Question("income", "How steady is your income?", 2, (
        Option("none", "I have no regular income", 0),
        Option("variable", "It varies a lot", 1),
        Option("steady", "It is steady", 3),
        Option("secure", "It is very secure and grows", 4),
    )),
    Question("loss", "Your investments fall 20% in a month. What do you do?", 3, (
        Option("sell_all", "Sell everything", 0),
        Option("sell_some", "Sell some", 1),
        Option("hold", "Hold and wait", 3),
        Option("buy_more", "Buy more", 4),
    )),
    Question("experience", "How much have you invested before?", 1, (
        Option("none", "Never", 0),
        Option("some", "A little: deposits, mutual funds", 2),
        Option("regular", "Regularly, including shares", 3),
        Option("expert", "For many years, actively", 4),
    )),
    Question("goal", "What matters most for this money?", 2, (
        Option("preserve", "Keeping what I have", 0),
        Option("income", "A steady income", 1),
        Option("balanced", "Growth with some safety", 3),
        Option("growth", "The most growth", 4),
    )),
)  # fmt: skip

HORIZON_YEARS = {"lt3": 2, "3to7": 5, "7to15": 10, "gt15": 20}
"""Horizon in years used for each horizon answer (the middle of its range)."""


class InvalidAnswers(ValueError):
    """Answers missing a question, or naming an option that does not exist."""

    def __init__(self, message: str, problems: dict[str, str]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Assessment:
    """The outcome of one set of answers."""

    score: int
    profile: RiskProfile
    horizon_years: int


def assess(answers: dict[str, str]) -> Assessment:
    """Score ``answers`` (question id → option value) and derive the profile.

    Raises:
        InvalidAnswers: a question unanswered, an unknown question, or an unknown option.
    """
    problems: dict[str, str] = {}
    known = {q.id for q in QUESTIONS}
    for extra in sorted(set(answers) - known):
        problems[extra] = "no such question"
    earned = 0
    for question in QUESTIONS:
        chosen = answers.get(question.id)
        option = next((o for o in question.options if o.value == chosen), None)
        if chosen is None:
            problems[question.id] = "not answered"
        elif option is None:
            problems[question.id] = f"not an option: {chosen!r}"
        else:
            earned += question.weight * option.points
    if problems:
        raise InvalidAnswers("some answers are missing or not options", problems)
    most = 4 * sum(q.weight for q in QUESTIONS)
    score = int((Decimal(100 * earned) / most).quantize(Decimal(1), ROUND_HALF_EVEN))
    profile = (RiskProfile.CONSERVATIVE if score < 40 else
               RiskProfile.MODERATE if score < 70 else RiskProfile.AGGRESSIVE)  # fmt: skip
    horizon = HORIZON_YEARS[answers["horizon"]]
    if horizon < 3:
        profile = RiskProfile.CONSERVATIVE
    elif horizon < 7 and profile is RiskProfile.AGGRESSIVE:
        profile = RiskProfile.MODERATE
    return Assessment(score, profile, horizon)


@dataclass(frozen=True, slots=True)
class ProfilePolicy:
    """What a profile asks of the optimiser: objective, largest weight per holding (ratio),
    and the strategy label."""

    objective: Objective
    max_weight: float
    strategy: Strategy


POLICIES: dict[RiskProfile, ProfilePolicy] = {
    RiskProfile.CONSERVATIVE: ProfilePolicy(Objective.MIN_VOLATILITY, 0.20, Strategy.INCOME),
    RiskProfile.MODERATE: ProfilePolicy(Objective.MAX_SHARPE, 0.25, Strategy.BALANCED),
    RiskProfile.AGGRESSIVE: ProfilePolicy(Objective.TARGET_RETURN, 0.35, Strategy.GROWTH),
}
