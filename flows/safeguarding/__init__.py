"""Spot inbound text that suggests a child at risk, in any of the service's languages.

A miss is far worse than a false alarm, so text is normalised hard (disguises, accents,
spacing, look-alike letters) and every language is checked, not just the contact's: first the
editable phrase lists, then the concept patterns, which read each word's dictionary form and
allow words in between ("wants to end his own life").
"""

from __future__ import annotations

from functools import cache

from flows.safeguarding.concepts import CONCEPT_DIRECTORY, RiskConcepts
from flows.safeguarding.phrases import RiskMatch, RiskPhrases
from flows.safeguarding.text import DEFAULT_DIRECTORY, LANGUAGES, normalise

__all__ = [
    "CONCEPT_DIRECTORY",
    "DEFAULT_DIRECTORY",
    "LANGUAGES",
    "RiskConcepts",
    "RiskMatch",
    "RiskPhrases",
    "find_risk",
    "normalise",
    "warm",
]


@cache
def _default_phrases() -> RiskPhrases:
    return RiskPhrases.load()


@cache
def _default_concepts() -> RiskConcepts:
    return RiskConcepts.load()


def warm() -> None:
    """Compile every list and read the lemma tables now, so the first parent does not wait."""
    find_risk("warm")


def find_risk(text: str, language: str | None = None) -> RiskMatch | None:
    """Check the contact's language, then English, then every other: parents mix languages.

    In each language the phrase list is tried before the concept patterns."""
    phrases, concepts = _default_phrases(), _default_concepts()
    first = (language or "en").lower().replace("_", "-").split("-")[0]
    for code in dict.fromkeys([first, "en", *phrases.languages, *concepts.languages]):
        if match := phrases.find_in(text, code) or concepts.find_in(text, code):
            return match
    return None
