"""The evaluation survey sent when a case closes: a rating from 1 to 5, then "what helped?".

The annual report's satisfaction KPI is counted from the answers. Short on purpose: two
questions, no summary to confirm, each message well inside one SMS.
"""

from __future__ import annotations

from flows.engine import N_, Choice, Flow, Invalid, Step
from flows.intake import WORDS as INTAKE_WORDS

MAX_HELPED = 1000

RATINGS = (
    Choice("1", N_("1 - Very poor")),
    Choice("2", N_("2 - Poor")),
    Choice("3", N_("3 - OK")),
    Choice("4", N_("4 - Good")),
    Choice("5", N_("5 - Very good")),
)


def _helped(text: str) -> str | Invalid:
    words = text.strip()
    if not words:
        return Invalid(N_("Please write a few words, or send 'none'."))
    return words[:MAX_HELPED]


WORDS = {
    **INTAKE_WORDS,
    "done": N_("Thank you, we have your answers."),
    "stopped": N_("That is fine, we will not ask again."),
}

THANKS = N_("Thank you for your feedback. It helps us help other families.")

FEEDBACK = Flow(
    name="feedback",
    words=WORDS,
    confirm=False,
    steps=(
        Step(
            "rating",
            N_(
                "{service}: we have finished working on your enquiry. How helpful were we, "
                "from 1 (very poor) to 5 (very good)? Reply with a number, or stop."
            ),
            choices=RATINGS,
        ),
        Step(
            "helped",
            N_("What helped most, or what could we do better?"),
            kind="text",
            validate=_helped,
        ),
    ),
)
