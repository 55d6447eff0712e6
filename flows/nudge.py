"""The nudge: after several unanswered calls, ask the parent when to call, or whether to stop.

Started by the service (bot/conversation/nudge.py), not by the parent; two short questions,
no summary, each short enough for one SMS. See diagrams/nudge.mmd.
"""

from __future__ import annotations

from flows.engine import N_, Choice, Flow, Step
from flows.intake import BEST_TIMES, WORDS

NUDGE_NAME = "nudge"

ANSWERS = (
    Choice("time", N_("Choose a time for our call")),
    Choice("not_needed", N_("I no longer need a call")),
)

NUDGE = Flow(
    name=NUDGE_NAME,
    words=WORDS,
    confirm=False,
    steps=(
        Step(
            "answer",
            N_(
                "{service}: we tried to call you. Reply 1 to choose a time, "
                "2 if you no longer need us."
            ),
            choices=ANSWERS,
            changeable=False,
        ),
        Step(
            "best_time",
            N_("When is the best time for us to call?"),
            choices=BEST_TIMES,
            when=lambda answers: answers.get("answer") == "time",
        ),
    ),
)

RESCHEDULED = N_("Thank you. We will call you {window} on {date}.")
CLOSED = N_(
    "Thank you for letting us know. We have closed enquiry {reference}. "
    "Message us again at any time."
)
WINDOWS = {
    "morning": N_("in the morning"),
    "afternoon": N_("in the afternoon"),
    "any": N_("during the day"),
}
