"""Concept patterns: the small pattern language, the lemma tables, and disguise repair."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.safeguarding import CONCEPT_DIRECTORY, LANGUAGES, RiskConcepts, RiskMatch, find_risk
from flows.safeguarding.concepts import PatternError, compile_pattern, lemma_words
from flows.safeguarding.lemmas import LEMMATISED, TABLE_DIRECTORY, signature
from flows.safeguarding.views import concept_views


@pytest.mark.parametrize(
    ("pattern", "reading", "matches"),
    [
        ("kill ~3 himself", "he killed=kill himself", True),  # a lemma counts
        ("kill ~3 himself", "he wants to kill his own big brother himself", False),  # gap of 4
        ("kill ~3 himself", "he wants to kill his own self himself", True),
        ("suicid*", "suicidal thoughts", True),
        ("*کشی", "خودکشی کی باتیں", True),
        ("missing !(school|lessons)", "he is missing school", False),
        ("missing !(school|lessons)", "he is missing since friday", True),
        ("hit* (us|me) !~3(fine|fines)", "hitting=hit us=we with fines=fine", False),
        ("hit* (us|me) !~3(fine|fines)", "hitting=hit us=we with a belt", True),
        ("(se|me) ~2 =mata", "el papeleo me esta matando=matar", False),  # surface only
        ("(se|me) ~2 =mata", "me mata", True),
        ("(sewer slide|sewerslide) ~1 thoughts", "sewer slide thoughts", True),
        ("matar-se", "quer matar se", True),  # a word that normalises to two is two
    ],
)
def test_pattern_language(pattern: str, reading: str, matches: bool) -> None:
    assert bool(compile_pattern(pattern).search(reading)) is matches


@pytest.mark.parametrize("pattern", ["(kill|murder", "~2", "kill (&)", "kill (|x)"])
def test_unreadable_pattern_is_an_error_at_load(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_every_language_has_concepts_in_every_core_category() -> None:
    concepts = RiskConcepts.load()
    assert set(concepts.languages) == set(LANGUAGES)
    core = {"suicide", "self-harm", "abuse", "sexual harm", "missing", "neglect"}
    for language in LANGUAGES:
        assert core <= {category for category, _ in concepts.patterns(language)}, language


@pytest.mark.parametrize("language", LEMMATISED)
def test_lemma_table_was_built_for_the_current_patterns(language: str) -> None:
    """Edited concepts/<language>.txt? Run `.venv/bin/python -m flows.safeguarding`."""
    words = lemma_words((CONCEPT_DIRECTORY / f"{language}.txt").read_text(encoding="utf-8"))
    header = (TABLE_DIRECTORY / f"{language}.tsv").read_text(encoding="utf-8").split("\n", 1)[0]
    assert header.split()[:3] == ["#", language, signature(words)]


def test_lemmas_are_found_without_accents() -> None:
    assert find_risk("zabil sie wczoraj prawie", "pl") is not None  # "zabił się"
    assert find_risk("Mae ei thad yn ei tharo hi", "cy") is not None  # mutated "taro"


@pytest.mark.parametrize(
    ("message", "hidden"),
    [
        ("he wants to ki11 himself", "kill"),
        ("he wants to kiII himself", "kill"),
        ("he ab*sed her", "abused"),
        ("sui-cide", "suicide"),
        ("she is being ab.used", "abused"),
    ],
)
def test_disguised_words_are_read(message: str, hidden: str) -> None:
    assert any(hidden in view.split() for view in concept_views(message))


def test_concept_match_names_the_pattern_never_the_message() -> None:
    match = find_risk("my son keeps telling me he is going to end his own life", "en")
    assert isinstance(match, RiskMatch)
    assert match.category == "suicide"
    assert "son" not in match.phrase


@pytest.mark.parametrize(
    "message",
    [
        "he's been missing school because of anxiety",
        "the school is killing me with paperwork",
        "dying to know when the panel meets",
        "budget cuts to SEN transport",
        "he hates being touched, it's sensory",
        "we need help with personal care and grooming",
        "I'm gunna ring the school tomorrow",
        "we can't beat the deadline",
    ],
)
def test_send_idioms_are_not_risk(message: str) -> None:
    assert find_risk(message, "en") is None


def test_anchor_index_never_hides_a_pattern_that_would_match(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The look-ups only skip work: with every pattern tried, every answer is the same."""
    from flows.safeguarding import anchors
    from tests.safeguarding.evaluation import all_examples

    concepts = RiskConcepts.load()
    messages = [e.text for e in all_examples()][::5]  # a fifth of the set keeps it quick
    indexed = [[concepts.find_in(m, lang) for lang in LANGUAGES] for m in messages]
    monkeypatch.setattr(
        anchors.AnchorIndex, "candidates", lambda self, forms: list(range(len(self._numbers)))
    )
    exhaustive = [[concepts.find_in(m, lang) for lang in LANGUAGES] for m in messages]
    assert indexed == exhaustive


def test_stale_table_is_still_used_when_simplemma_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.safeguarding import lemmas

    (tmp_path / "en.tsv").write_text("# en 0000 simplemma 2.0.0\nkilled\tkill\n", encoding="utf-8")

    def no_simplemma(language: str, words: object) -> lemmas.Table:
        raise ImportError("simplemma")

    monkeypatch.setattr(lemmas, "build", no_simplemma)
    assert lemmas.load("en", ["kill"], tmp_path) == {"killed": ("kill",)}
