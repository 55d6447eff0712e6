"""The shapes every flow is made of: steps, choices, replies and turns, as plain data.

Flows (intake, feedback, nudge) are written in these; the engine (flows/engine.py) walks them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Answers = Mapping[str, Any]
Translate = Callable[[str], str]


def N_(msgid: str) -> str:
    """Mark a message for the catalog without translating it yet (translated per conversation)."""
    return msgid


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Invalid:
    """A validator's kind answer to a wrong reply: the msgid to re-ask with."""

    message: str


Validator = Callable[[str], "Any | Invalid"]


@dataclass(frozen=True)
class Step:
    """One question; `when` limits it to some earlier answers, `summary` labels its answer."""

    key: str
    prompt: str | Callable[[Answers], str]
    kind: str = "choice"  # choice | yesno | text
    choices: tuple[Choice, ...] = ()
    validate: Validator | None = None
    when: Callable[[Answers], bool] | None = None
    summary: str | None = None
    changeable: bool = True
    show: Callable[[Any], str] | None = None
    # A consent gate: "no" ends the flow (declined); kept on restart; "back" stops before it.
    gate: bool = False
    asks_phone: bool = False  # channels offer a "share my number" button here

    def applies(self, answers: Answers) -> bool:
        return self.when is None or self.when(answers)

    def prompt_for(self, answers: Answers) -> str:
        return self.prompt(answers) if callable(self.prompt) else self.prompt


@dataclass(frozen=True)
class Flow:
    """A flow: its steps, plus the words the engine needs for its own replies."""

    name: str
    steps: tuple[Step, ...]
    words: Mapping[str, str]
    confirm: bool = True  # end on a summary to check; short service flows finish at once

    def step(self, key: str) -> Step:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(key)


@dataclass(frozen=True)
class Reply:
    """An outbound message before a channel renders it: text plus numbered choices."""

    text: str
    choices: tuple[str, ...] = ()
    request_phone: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reply:
        """A reply stored with `as_dict` (the inbox keeps them to answer a redelivery alike)."""
        return cls(str(data["text"]), tuple(data["choices"]), bool(data["request_phone"]))

    def numbered(self) -> str:
        """The text, then one "1. choice" line per choice (as SMS, a keypad or a log shows it)."""
        return "\n".join(
            [self.text, *(f"{n}. {choice}" for n, choice in enumerate(self.choices, 1))]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "choices": list(self.choices),
            "request_phone": self.request_phone,
        }


@dataclass
class Turn:
    """What one message did: the new state, the replies, and how the flow ended (if it did)."""

    state: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    outcome: str | None = None  # completed | stopped | declined


COMMANDS = ("back", "change", "restart", "help", "stop", "language")
SUMMARY, CHANGE, DONE, LANGUAGE = "@summary", "@change", "@done", "@language"


class _Params(dict[str, str]):
    """Placeholders a message may use; an unknown one is left as written rather than crash.

    `later` holds placeholders worked out only when a message uses them (reading a phone
    number back costs more than most turns that never mention it)."""

    def __init__(
        self, values: Mapping[str, str], later: Mapping[str, Callable[[], str]] | None = None
    ) -> None:
        super().__init__(values)
        self.later = later or {}

    def __missing__(self, key: str) -> str:
        if key in self.later:
            self[key] = value = self.later[key]()
            return value
        return "{" + key + "}"


def _ascii_digit(char: str) -> str:
    """Arabic-Indic, Bengali, Gujarati, Gurmukhi ... digits read as 0-9; other characters kept."""
    value = unicodedata.decimal(char, None)
    return char if value is None else str(value)


def normalise_reply(text: str) -> str:
    folded = " ".join(text.strip().casefold().split()).strip(".!۔।")
    return "".join(map(_ascii_digit, unicodedata.normalize("NFC", folded)))
