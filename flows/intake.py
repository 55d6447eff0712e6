"""The intake: what the service needs to know to call a parent, carer or young person back.

Every choice is a numbered list (a keypad works), at most nine options. See diagrams/intake.mmd.
"""

from __future__ import annotations

from flows import validators
from flows.engine import N_, Answers, Choice, Flow, Step

ASKERS = (
    Choice("parent", N_("Parent or carer")),
    Choice("young_person", N_("Young person (16-25), asking for myself")),
    Choice("professional", N_("Professional")),
)

TOPICS = (
    Choice("sen_support", N_("SEN support in school")),
    Choice("ehc", N_("EHC needs assessment or plan")),
    Choice("tribunal", N_("Tribunal or mediation")),
    Choice("exclusion", N_("Exclusion or suspension")),
    Choice("bullying", N_("Bullying")),
    Choice("admissions", N_("School admissions and appeals")),
    Choice("home_education", N_("Elective home education")),
    Choice("attendance_transport", N_("Attendance or school transport")),
    Choice("other", N_("Something else")),
)
SEND_TOPICS = frozenset({"sen_support", "ehc", "tribunal"})

STAGES = (
    Choice("sen_support", N_("SEN support in school")),
    Choice("assessment_requested", N_("Asked for an EHC needs assessment")),
    Choice("ehc_plan", N_("Draft or final EHC plan")),
    Choice("annual_review", N_("Annual review")),
    Choice("tribunal", N_("Tribunal or mediation")),
)

SETTINGS = (
    Choice("early_years", N_("Early years or nursery")),
    Choice("primary", N_("Primary school")),
    Choice("secondary", N_("Secondary school")),
    Choice("post16", N_("College or post-16")),
    Choice("not_in_school", N_("Not in school")),
)

BEST_TIMES = (
    Choice("morning", N_("Morning (9am to 12 noon)")),
    Choice("afternoon", N_("Afternoon (12 noon to 5pm)")),
    Choice("any", N_("Any time")),
)

HEARD_FROM = (
    Choice("school", N_("School or college")),
    Choice("council", N_("The council")),
    Choice("health", N_("Health visitor, doctor or therapist")),
    Choice("family_friend", N_("Another parent, family or friend")),
    Choice("website", N_("Website or internet search")),
    Choice("social_media", N_("Social media")),
    Choice("leaflet", N_("Leaflet or poster")),
    Choice("used_before", N_("I have used the service before")),
    Choice("other", N_("Somewhere else")),
)


def _age_prompt(answers: Answers) -> str:
    if answers.get("asker") == "young_person":
        return N_("How old are you, or what year are you in at school or college?")
    return N_("How old is the child, or what year are they in at school?")


def _no_known_phone(answers: Answers) -> bool:
    return not answers.get("use_known_phone")


def _has_known_phone(answers: Answers) -> bool:
    return bool(answers.get("known_phone"))


WORDS = {
    "yes": N_("Yes"),
    "no": N_("No"),
    "back": N_("back"),
    "change": N_("change"),
    "restart": N_("restart"),
    "help": N_("help"),
    "stop": N_("stop"),
    "language": N_("language"),
    "choose_language": N_("Which language would you like? Reply with a number."),
    "choice_error": N_("Sorry, I did not understand. Please reply with one of the numbers."),
    "yesno_error": N_("Please reply 1 for yes or 2 for no."),
    "declined": N_(
        "That is fine: we have not kept anything you sent. You can ring us instead "
        "on {phone}, {hours}."
    ),
    "stopped": N_("We have stopped and deleted your answers. Message us again at any time."),
    "help_text": N_(
        "Reply with the number of your answer. You can also send: back (the last question "
        "again), change (change an answer), restart (start again), stop (end and delete), "
        "language (choose another language). If a child is in danger now, call 999."
    ),
    "summary": N_("Please check your answers:"),
    "send": N_("Send my enquiry"),
    "change_answer": N_("Change an answer"),
    "change_which": N_("Which answer would you like to change?"),
    "nothing_to_change": N_("There is nothing to change yet."),
    "at_start": N_("This is the first question."),
    "done": N_(
        "We have your enquiry and an officer will call you. To start a new enquiry, send restart."
    ),
}

CONFIRMATION = N_(
    "Thank you. Your reference is {reference}. An officer will call you by {time} on {date}."
)
CONFIRMATION_INCOMPLETE = N_(
    "We did not hear from you for a while, so we have kept what you told us. Your reference "
    "is {reference}. An officer will call you by {time} on {date}."
)

INTAKE = Flow(
    name="intake",
    words=WORDS,
    steps=(
        Step(
            "consent",
            N_(
                "Welcome to {service}. We give free, confidential and impartial information, "
                "advice and support about special educational needs and disabilities (SEND). "
                "We keep what you tell us private, unless a child may be at risk. "
                "May we keep a record of your enquiry so that we can call you back?"
            ),
            kind="yesno",
            changeable=False,
            gate=True,
        ),
        Step("asker", N_("Who is asking?"), choices=ASKERS, summary=N_("Who is asking")),
        Step("topic", N_("What is it about?"), choices=TOPICS, summary=N_("Topic")),
        Step(
            "stage",
            N_("Where are things now?"),
            choices=STAGES,
            when=lambda a: a.get("topic") in SEND_TOPICS,
            summary=N_("Stage"),
        ),
        Step(
            "child_age",
            _age_prompt,
            kind="text",
            validate=validators.child_age,
            summary=N_("Age or school year"),
        ),
        Step(
            "setting",
            N_("Where do they learn now?"),
            choices=SETTINGS,
            summary=N_("School or setting"),
        ),
        Step(
            "description",
            N_("In your own words, what has happened? Please do not send photos or documents."),
            kind="text",
            validate=validators.description,
            summary=N_("What has happened"),
        ),
        Step(
            "use_known_phone",
            N_("Shall we call you on {known_phone}?"),
            kind="yesno",
            when=_has_known_phone,
            summary=N_("Call you on the number you wrote from"),
            changeable=False,
        ),
        Step(
            "phone",
            N_("What number should we call you on?"),
            kind="text",
            validate=validators.phone,
            when=_no_known_phone,
            summary=N_("Phone number"),
            asks_phone=True,
            show=validators.show_phone,
        ),
        Step(
            "best_time",
            N_("When is the best time to call?"),
            choices=BEST_TIMES,
            summary=N_("Best time to call"),
        ),
        Step(
            "voicemail_ok",
            N_("If we miss you, is it safe to leave a voicemail or send a text?"),
            kind="yesno",
            summary=N_("Voicemail or text is safe"),
        ),
        Step(
            "interpreter",
            N_("Would you like an interpreter on the call?"),
            kind="yesno",
            summary=N_("Interpreter"),
        ),
        Step(
            "share_consent",
            N_("If it would help, may we talk to the school or the council about your enquiry?"),
            kind="yesno",
            summary=N_("We may talk to the school or council"),
        ),
        Step(
            "heard_from",
            N_("How did you hear about us?"),
            choices=HEARD_FROM,
            summary=N_("How you heard about us"),
        ),
    ),
)


def callback_phone(answers: Answers) -> str | None:
    """The number to ring: the one typed in, or the one the parent wrote from, if they said so."""
    if answers.get("use_known_phone") and answers.get("known_phone"):
        return str(answers["known_phone"])
    phone = answers.get("phone")
    return str(phone) if phone else None
