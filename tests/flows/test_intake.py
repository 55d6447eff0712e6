"""The intake as transcripts: what a parent sends, what the engine answers."""

from __future__ import annotations

from typing import Any

import pytest

from flows.engine import CHANGE, DONE, LANGUAGE, SUMMARY, Engine, Turn
from flows.intake import INTAKE

PARAMS = {
    "service": "Test SENDIASS",
    "phone": "01234 567890",
    "hours": "Monday–Friday, 09:00–17:00",
}


def engine(languages: dict[str, str] | None = None) -> Engine:
    return Engine(INTAKE, lambda m: m, languages or {"en": "English"}, PARAMS)


class Transcript:
    """Send lines one by one and check each reply, like a parent typing."""

    def __init__(self, e: Engine | None = None, state: dict[str, Any] | None = None) -> None:
        self.engine = e or engine()
        self.state = state or {"language": "en", "answers": {}, "history": []}
        self.turn: Turn = self.engine.start(self.state)

    def send(self, text: str) -> Turn:
        self.turn = self.engine.advance(self.state, text)
        self.state = self.turn.state
        return self.turn

    @property
    def said(self) -> str:
        return "\n".join(r.text + " " + " ".join(r.choices) for r in self.turn.replies)

    @property
    def step(self) -> str:
        return str(self.state["step"])


HAPPY_PATH = [
    ("yes", "asker"),
    ("1", "topic"),
    ("2", "stage"),
    ("2", "child_age"),
    ("Year 4", "setting"),
    ("2", "description"),
    ("The school says they cannot meet his needs without a plan.", "phone"),
    ("07700 900123", "best_time"),
    ("1", "voicemail_ok"),
    ("yes", "interpreter"),
    ("no", "share_consent"),
    ("1", "heard_from"),
    ("5", SUMMARY),
]


def walk(t: Transcript, path: list[tuple[str, str]] = HAPPY_PATH) -> None:
    for text, expected_step in path:
        t.send(text)
        assert t.step == expected_step, (text, t.said)


def test_first_message_is_the_confidentiality_notice_and_consent() -> None:
    t = Transcript()
    assert "confidential and impartial" in t.said
    assert "Test SENDIASS" in t.said
    assert t.turn.replies[0].choices == ("Yes", "No")


def test_happy_path_to_summary_and_completion() -> None:
    t = Transcript()
    walk(t)
    assert "Please check your answers" in t.said
    assert "EHC needs assessment or plan" in t.said
    assert "07700 900123" in t.said
    assert "Year 4" in t.said
    turn = t.send("1")
    assert turn.outcome == "completed"
    answers = turn.state["answers"]
    assert answers["phone"] == "+447700900123"
    assert answers["topic"] == "ehc" and answers["stage"] == "assessment_requested"
    assert answers["voicemail_ok"] is True and answers["interpreter"] is False
    assert answers["share_consent"] is True and answers["heard_from"] == "website"


def test_no_consent_declines_with_phone_and_hours() -> None:
    t = Transcript()
    turn = t.send("no")
    assert turn.outcome == "declined"
    assert "01234 567890" in t.said and "09:00" in t.said


def test_stage_only_asked_for_send_topics() -> None:
    t = Transcript()
    t.send("1")
    t.send("1")
    t.send("5")  # bullying
    assert t.step == "child_age"


def test_young_person_is_asked_their_own_age() -> None:
    t = Transcript()
    t.send("yes")
    t.send("2")
    t.send("5")
    assert "How old are you" in t.said


def test_back_asks_the_previous_question_again() -> None:
    t = Transcript()
    walk(t, HAPPY_PATH[:3])
    t.send("back")
    assert t.step == "topic"
    assert "topic" not in t.state["answers"]
    t.send("back")
    assert t.step == "asker"
    t.send("back")
    assert "first question" in t.said and t.step == "asker"


def test_change_an_answer_from_the_summary_returns_to_the_summary() -> None:
    t = Transcript()
    walk(t)
    t.send("2")
    assert t.step == CHANGE
    labels = t.turn.replies[0].choices
    number = labels.index("Best time to call") + 1
    t.send(str(number))
    assert t.step == "best_time"
    t.send("2")
    assert t.step == SUMMARY
    assert "Afternoon" in t.said


def test_change_topic_drops_a_stage_that_no_longer_applies() -> None:
    t = Transcript()
    walk(t)
    t.send("change")
    t.send(str(t.turn.replies[0].choices.index("Topic") + 1))
    t.send("5")  # bullying: no stage
    assert t.step == SUMMARY
    assert "Stage" not in t.said
    assert t.send("1").state["answers"].get("stage") is None


def test_restart_keeps_consent_and_forgets_answers() -> None:
    t = Transcript()
    walk(t, HAPPY_PATH[:5])
    t.send("restart")
    assert t.step == "asker"
    assert t.state["answers"] == {"consent": True}


def test_stop_ends_the_conversation() -> None:
    t = Transcript()
    walk(t, HAPPY_PATH[:4])
    assert t.send("STOP").outcome == "stopped"
    assert "deleted" in t.said


def test_help_explains_and_asks_again() -> None:
    t = Transcript()
    walk(t, HAPPY_PATH[:2])
    t.send("help")
    assert "999" in t.said and "What is it about?" in t.said
    assert t.step == "topic"


@pytest.mark.parametrize(
    ("path", "bad", "complaint"),
    [
        (HAPPY_PATH[:1], "7", "one of the numbers"),
        (HAPPY_PATH[:1], "0", "one of the numbers"),
        (HAPPY_PATH[:1], "parents!!", "one of the numbers"),
        ([], "maybe", "1 for yes or 2 for no"),
        (HAPPY_PATH[:5], "", "one of the numbers"),
        (HAPPY_PATH[:6], "", "in a few words"),
        (HAPPY_PATH[:6], "x" * 5000, "shorter summary"),
        (HAPPY_PATH[:6], "asdf" * 1 + "!!!!", "what has happened"),
        (HAPPY_PATH[:6], "?????", "could not read"),
        (HAPPY_PATH[:7], "12345", "phone number"),
        (HAPPY_PATH[:7], "call me", "phone number"),
        (HAPPY_PATH[:4], "!!!", "age or school year"),
    ],
)
def test_wrong_answers_get_a_kind_reask_and_keep_the_step(
    path: list[tuple[str, str]], bad: str, complaint: str
) -> None:
    t = Transcript()
    walk(t, path)
    before = t.step
    turn = t.send(bad)
    if complaint == "what has happened":
        # "asdf!!!!" is short but readable words: accepted as a description.
        assert t.step == "phone"
        return
    assert turn.outcome is None
    assert t.step == before
    assert complaint in t.said
    assert len(turn.replies) == 2  # the re-ask, then the question again


def test_choice_accepts_its_label_as_well_as_its_number() -> None:
    t = Transcript()
    t.send("Yes")
    t.send("professional")
    assert t.state["answers"]["asker"] == "professional"


def test_known_phone_is_offered_and_used() -> None:
    state = {"language": "en", "answers": {"known_phone": "+447700900123"}, "history": []}
    t = Transcript(
        Engine(INTAKE, lambda m: m, {"en": "English"}, {"known_phone": "07700 900123"}), state
    )
    walk(t, HAPPY_PATH[:6])
    t.send("It is about transport.")
    assert t.step == "use_known_phone"
    assert "Shall we call you on 07700 900123?" in t.said
    t.send("yes")
    assert t.step == "best_time"


def test_language_is_asked_first_when_several_are_offered_and_can_be_changed() -> None:
    e = engine({"en": "English", "cy": "Cymraeg", "pl": "Polski"})
    t = Transcript(e, {"answers": {}, "history": []})
    assert t.step == LANGUAGE
    assert t.turn.replies[0].choices == ("English", "Cymraeg", "Polski")
    turn = t.send("3")
    assert turn.outcome == "language" and t.state["language"] == "pl"
    assert t.step == "consent"
    t.send("yes")
    t.send("language")
    assert t.step == LANGUAGE
    t.send("Cymraeg")
    assert t.state["language"] == "cy" and t.step == "asker"
    assert t.state["answers"]["consent"] is True


def test_done_state_answers_without_asking_again() -> None:
    t = Transcript()
    walk(t)
    t.send("1")
    t.state["step"] = DONE
    turn = t.send("hello?")
    assert "We have your enquiry" in t.said and turn.outcome is None
