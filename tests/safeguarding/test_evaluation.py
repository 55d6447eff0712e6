"""Every language: all risk messages caught, at most 5% of innocent ones flagged."""

from __future__ import annotations

import pytest

from flows.safeguarding import LANGUAGES
from tests.safeguarding.evaluation import MAX_FALSE_POSITIVE_RATE, MIN_RISK, MIN_SAFE, load, score


@pytest.mark.parametrize("language", LANGUAGES)
def test_set_is_big_enough(language: str) -> None:
    examples = load(language)
    assert sum(e.risky for e in examples) >= MIN_RISK
    assert sum(not e.risky for e in examples) >= MIN_SAFE


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_risk_message_is_caught(language: str) -> None:
    result = score(language)
    assert result.missed == [], f"{language}: recall {result.recall:.0%}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_few_innocent_messages_are_flagged(language: str) -> None:
    result = score(language)
    assert result.false_positive_rate <= MAX_FALSE_POSITIVE_RATE, result.flagged
