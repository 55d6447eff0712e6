"""SMS segments: GSM-7 (with its extension table) against UCS-2, and every message the intake
can send by SMS, in every language that has a catalog, reaching the parent in few texts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.channels.twilio import segments
from bot.channels.twilio.segments import is_gsm7, segment_count, split
from bot.channels.twilio.sms import render
from bot.conversation.router import Router
from bot.core.catalog_checks import extracted_msgids
from bot.core.i18n import LANGUAGE_NAMES, LOCALES, Catalogs, due_parts
from bot.core.services import make_clock
from bot.core.settings import Settings
from flows.engine import CHANGE, LANGUAGE, SUMMARY, Reply
from flows.intake import INTAKE


def test_gsm7_detects_the_basic_and_extension_tables() -> None:
    assert is_gsm7("Hello @ £5, é à ñ ü Ø Δ {braces} [x] ~ | ^ € \\")
    assert not is_gsm7("Cześć")  # ś and ć are not GSM-7
    assert not is_gsm7("ok ✓")
    assert not is_gsm7("curly ’quote’")
    assert is_gsm7(segments.plain("curly ’quote’ • dash – …"))


def test_segments_are_counted_by_encoding() -> None:
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("a" * 306) == 2
    assert segment_count("a" * 307) == 3
    assert segment_count("€" * 80) == 1  # two septets each
    assert segment_count("€" * 81) == 2
    # An escape pair is never split across parts: 152 + 2 does not fit in 153.
    assert segment_count("a" * 152 + "€" + "a" * 10) == 2
    assert segment_count("a" * 152 + "€" + "a" * 152) == 3
    assert segment_count("ł" * 70) == 1
    assert segment_count("ł" * 71) == 2
    assert segment_count("ł" * 134) == 2
    assert segment_count("ł" * 135) == 3
    assert segment_count("😀" * 35) == 1  # a surrogate pair is two UCS-2 units
    assert segment_count("😀" * 36) == 2
    assert segment_count("") == 1


def _counted_by_hand(text: str) -> int:
    """The network's rule spelt out character by character, to check the fast count against."""
    gsm = all(c in segments.GSM7_BASIC or c in segments.GSM7_EXTENSION for c in text)
    single, part = (160, 153) if gsm else (70, 67)
    units = [2 if (c in segments.GSM7_EXTENSION if gsm else ord(c) > 0xFFFF) else 1 for c in text]
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return count


@given(st.text(alphabet=st.sampled_from("ab 1\n€[~|😀ąسé"), max_size=500))
@example("a" * 306)  # exactly two parts
@example("ą" * 134)
@example("€" * 80)
def test_the_fast_count_agrees_with_the_count_by_hand(text: str) -> None:
    assert segment_count(text) == _counted_by_hand(text)


def test_split_cuts_between_words_and_each_piece_fits() -> None:
    text = "\n".join(" ".join(f"słowo{n}-{m}" for m in range(20)) for n in range(6))
    pieces = split(text)
    assert len(pieces) > 1
    assert all(segment_count(piece) <= 2 for piece in pieces)
    assert " ".join(pieces).split() == text.split()
    assert split("short") == ["short"]
    assert split("x" * 1000) and all(len(p) <= 306 for p in split("x" * 1000))


def shipped_languages() -> list[str]:
    """English, and every language whose catalog has landed (the test grows with them)."""
    return [
        code
        for code in LANGUAGE_NAMES
        if code == "en" or (LOCALES / code / "LC_MESSAGES" / "messages.po").exists()
    ]


def _router(language: str) -> Router:
    settings = replace(Settings(), languages=(language,))
    return Router(None, settings, make_clock(settings), Catalogs(settings.languages))  # type: ignore[arg-type]


def _states() -> list[dict[str, Any]]:
    """A state at every question of the intake, each with the answers that make it apply."""
    answers: dict[str, Any] = {
        "consent": True,
        "asker": "parent",
        "topic": "ehc",
        "stage": "ehc_plan",
        "child_age": "Year 10",
        "setting": "secondary",
        "description": "The school says they cannot meet his needs and wants him to go. " * 6,
        "known_phone": "+447700900123",
        "use_known_phone": False,
        "phone": "+447700900123",
        "best_time": "afternoon",
        "voicemail_ok": True,
        "interpreter": True,
        "share_consent": False,
        "heard_from": "family_friend",
    }
    states = [
        {"language": "en", "answers": dict(answers, asker=who), "history": [], "step": step.key}
        for step in INTAKE.steps
        for who in ("parent", "young_person")
    ]
    for step in (SUMMARY, CHANGE, LANGUAGE):
        states.append({"language": "en", "answers": dict(answers), "history": [], "step": step})
    return states


def _msgids() -> list[str]:
    """Every message marked with N_ in bot/ and flows/ (what the catalogs translate)."""
    return sorted(extracted_msgids())


def _replies(router: Router, language: str) -> list[tuple[str, Reply]]:
    replies: list[tuple[str, Reply]] = []
    for state in _states():
        state["language"] = language
        replies.append((state["step"], router.engine(state).reprompt(state)))
    engine = router.engine({"language": language})
    longest_date = datetime(2026, 9, 30, 16, 59, tzinfo=UTC)  # a Wednesday in September
    params = {
        **due_parts(longest_date, language, router.settings.timezone),
        "reference": "PP-7KX3QD",
        "known_phone": "07700 900123",
        "numbers": "1, 2",
        "last": "3",
    }
    for msgid in _msgids():
        replies.append((msgid, Reply(engine._(msgid).format_map(_Keep(params)))))
    return replies


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# How many texts one message may become: a question with its choices reads as at most two.
# The summary carries the parent's own description, so it has no bound; the "which answer to
# change" menu lists every question asked, which some translations need three texts for.
MAX_TEXTS = 2
MORE_TEXTS = {SUMMARY: None, CHANGE: 3}


@pytest.mark.parametrize("language", shipped_languages())
def test_every_sms_bound_message_becomes_at_most_two_texts(language: str) -> None:
    router = _router(language)
    gettext = router.catalogs.gettext(language)
    too_many = []
    for origin, reply in _replies(router, language):
        texts = render(reply, gettext, "sms")
        assert texts, origin
        limit = MORE_TEXTS.get(origin, MAX_TEXTS)
        if limit is not None and len(texts) > limit:
            too_many.append((origin, len(texts), texts))
        words = " ".join(texts).split()
        expected = segments.plain("\n".join([reply.text, *reply.choices])).split()
        assert all(word in words for word in expected), origin
    assert not too_many, (language, too_many)


def test_the_summary_with_a_long_description_splits_into_several_messages() -> None:
    router = _router("en")
    state = next(s for s in _states() if s["step"] == SUMMARY)
    state["answers"]["description"] = "word " * 380
    texts = render(router.engine(state).reprompt(state), router.catalogs.gettext("en"))
    assert len(texts) >= 7
    assert all(segment_count(text) <= 2 for text in texts)
    assert texts[-1].endswith("Reply 1 or 2.")
