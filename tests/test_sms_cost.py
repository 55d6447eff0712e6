"""SMS cost: every SMS-bound message, in every language, fits in two segments.

A parent pays nothing, but the service pays per segment, and a message split into many parts
can arrive out of order on old phones. Messages are rendered the way SMS shows them: the text,
then one numbered line per choice. Where a translation is too long, shorten the translation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.config import DEFAULT_LANGUAGES, Settings
from bot.i18n import Catalogs, due_parts, office_hours
from flows.engine import Engine, Invalid, Reply
from flows.intake import CONFIRMATION, CONFIRMATION_INCOMPLETE, INTAKE, SAFETY_MESSAGE
from tests.segments_util import segments, units

# The welcome names the service: the budget assumes a name of this length (see docs/languages.md).
SAMPLE_SERVICE = "Anytown SENDIASS"
SAMPLE_REFERENCE = "PP-7KX3QD"
SAMPLE_DUE = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
LIMIT = 2
# Messages that cannot fit two UCS-2 segments (134 characters) without losing what they must
# say: the language menu (13 names, each in its own script), the safety message (five phone
# numbers), the welcome (the confidentiality notice and consent) and the two nine-choice menus.
# They may use three; everything else two.
LONGER = {
    "@language": 3,
    SAFETY_MESSAGE: 3,
    INTAKE.step("consent").prompt_for({}): 3,
    INTAKE.step("topic").prompt_for({}): 3,
    INTAKE.step("heard_from").prompt_for({}): 3,
}


def sms(reply: Reply) -> str:
    return "\n".join([reply.text, *(f"{n}. {c}" for n, c in enumerate(reply.choices, 1))])


def engine(language: str, catalogs: Catalogs, settings: Settings) -> Engine:
    params = {
        "service": SAMPLE_SERVICE,
        "phone": settings.service_phone,
        "hours": office_hours(language, settings.opens, settings.closes, range(5)),
        "children_services": settings.children_services_phone,
        "out_of_hours": settings.out_of_hours_phone,
        "known_phone": "07700 900123",
    }
    translate = catalogs.gettext(language)
    return Engine(INTAKE, translate, catalogs.names(), params, language=language)


def messages(language: str) -> Iterator[tuple[str, str]]:
    """(msgid, the SMS text) for every message the intake can send by SMS in `language`."""
    settings = replace(Settings(), languages=DEFAULT_LANGUAGES)
    catalogs = Catalogs(DEFAULT_LANGUAGES)
    run = engine(language, catalogs, settings)
    yield "@language", sms(run.reprompt({"step": "@language", "answers": {}}))
    for step in INTAKE.steps:
        variants = [{}, {"asker": "young_person"}] if step.key == "child_age" else [{}]
        for answers in variants:
            state = {"step": step.key, "answers": answers}
            yield step.prompt_for(answers), sms(run.reprompt(state))
    errors = {INTAKE.words["choice_error"], INTAKE.words["yesno_error"]}
    for step in INTAKE.steps:
        if step.validate is not None:
            for bad in ("", "!", "x" * 2001, "hello"):
                result = step.validate(bad)
                if isinstance(result, Invalid):
                    errors.add(result.message)
    for key in ("help_text", "declined", "stopped", "done", "nothing_to_change", "at_start"):
        errors.add(INTAKE.words[key])
    for msgid in sorted(errors):
        yield msgid, run._(msgid)
    yield SAFETY_MESSAGE, run._(SAFETY_MESSAGE)
    parts = due_parts(SAMPLE_DUE, language, settings.timezone)
    for template in (CONFIRMATION, CONFIRMATION_INCOMPLETE):
        text = catalogs.gettext(language)(template).format(reference=SAMPLE_REFERENCE, **parts)
        yield template, text


@pytest.mark.parametrize("language", DEFAULT_LANGUAGES)
def test_every_sms_bound_message_fits_its_segments(language: str) -> None:
    too_long = [
        f"{segments(text)} segments ({units(text)} units): {text!r}"
        for msgid, text in messages(language)
        if segments(text) > LONGER.get(msgid, LIMIT)
    ]
    assert not too_long, "\n".join(too_long)
