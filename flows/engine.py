"""One generic engine for every flow: steps as data, with back, change, restart, help and stop.

The engine is pure: it takes a state (a JSON-able dict) and the parent's text and returns the
new state and the replies. It never touches a channel, the store or the clock, so a flow can be
tested as a transcript and the same flow runs on every channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flows.answer_words import no_words, yes_words
from flows.steps import (
    CHANGE,
    COMMANDS,
    DONE,
    LANGUAGE,
    N_,
    SUMMARY,
    Answers,
    Choice,
    Flow,
    Invalid,
    Reply,
    Step,
    Translate,
    Turn,
    Validator,
    _Params,
    normalise_reply,
)

# Flows and channels import the shapes from here too, as they always have.
__all__ = [
    "CHANGE",
    "COMMANDS",
    "DONE",
    "LANGUAGE",
    "N_",
    "SUMMARY",
    "Answers",
    "Choice",
    "Engine",
    "Flow",
    "Invalid",
    "Reply",
    "Step",
    "Translate",
    "Turn",
    "Validator",
    "normalise_reply",
]


class Engine:
    """Runs a flow for one conversation, in the conversation's language."""

    def __init__(
        self,
        flow: Flow,
        translate: Translate,
        languages: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        language: str = "en",
        later: Mapping[str, Callable[[], str]] | None = None,
    ) -> None:
        self.flow = flow
        self.language = language
        self.translate = translate
        self.languages = languages
        # `later`: placeholders worked out only if a message uses them.
        self.params = _Params(params or {}, later)

    def _(self, msgid: str) -> str:
        return self.translate(msgid).format_map(self.params)

    # -- public ---------------------------------------------------------------
    def start(self, state: dict[str, Any]) -> Turn:
        """Greet and ask the first question of a new conversation."""
        state.setdefault("answers", {})
        state.setdefault("history", [])
        if not state.get("language") and len(self.languages) > 1:
            state["step"] = LANGUAGE
        else:
            state["step"] = self._next_key(state)
        return Turn(state, [self._prompt(state)])

    def reprompt(self, state: dict[str, Any]) -> Reply:
        """Ask the current question again (after a language change, or on a returning contact)."""
        return self._prompt(state)

    def advance(self, state: dict[str, Any], text: str) -> Turn:
        """Take the parent's reply to the current question and move the flow on."""
        command = self.command(text)
        if command is not None:
            return self._command(state, command)
        step_key = state["step"]
        if step_key == DONE:
            return Turn(state, [Reply(self._(self.flow.words["done"]))])
        if step_key == LANGUAGE:
            return self._language_reply(state, text)
        if step_key == SUMMARY:
            return self._summary_reply(state, text)
        if step_key == CHANGE:
            return self._change_reply(state, text)
        step = self.flow.step(step_key)
        value = self.parse(step, text)
        if isinstance(value, Invalid):
            return Turn(state, [Reply(self._(value.message)), self._prompt(state)])
        if step.gate and value is False:
            return Turn(state, [Reply(self._(self.flow.words["declined"]))], "declined")
        state["answers"][step.key] = value
        if step.key not in state["history"]:
            state["history"].append(step.key)
        return self._move_on(state)

    def command(self, text: str) -> str | None:
        word = normalise_reply(text).lstrip("/")
        for command in COMMANDS:
            if word in {command, normalise_reply(self._(self.flow.words[command]))}:
                return command
        return None

    def parse(self, step: Step, text: str) -> Any:
        """Read a reply to `step`: numbers for choices, yes/no words, or the step's validator."""
        answer = normalise_reply(text)
        if step.kind == "yesno":
            if answer in self._yes():
                return True
            if answer in {"2", "no", "n", *no_words(self.language)} or answer == self._word("no"):
                return False
            return Invalid(self.flow.words["yesno_error"])
        if step.kind == "choice":
            return self._choose(step.choices, answer)
        if step.validate is None:
            return text.strip()
        return step.validate(text)

    # -- internals ------------------------------------------------------------
    def _word(self, key: str) -> str:
        return normalise_reply(self._(self.flow.words[key]))

    def _yes(self) -> set[str]:
        """Every way to say yes here: 1, English, the catalog's Yes and the everyday variants."""
        return {"1", "yes", "y", self._word("yes"), *yes_words(self.language)}

    def _choose(self, choices: tuple[Choice, ...], answer: str) -> str | Invalid:
        if answer.isascii() and answer.isdigit() and 1 <= int(answer) <= len(choices):
            return choices[int(answer) - 1].value
        for choice in choices:
            if answer in {normalise_reply(self._(choice.label)), choice.value}:
                return choice.value
        return Invalid(self.flow.words["choice_error"])

    def _next_key(self, state: dict[str, Any]) -> str:
        answers = state["answers"]
        for step in self.flow.steps:
            if step.applies(answers) and step.key not in answers:
                return step.key
        return SUMMARY

    def _move_on(self, state: dict[str, Any]) -> Turn:
        state["step"] = self._next_key(state)
        if state["step"] == SUMMARY and not self.flow.confirm:
            return Turn(state, [], "completed")
        return Turn(state, [self._prompt(state)])

    def _prompt(self, state: dict[str, Any]) -> Reply:
        key = state["step"]
        if key == SUMMARY:
            return self._summary(state)
        if key == CHANGE:
            labels = tuple(self._(s.summary or "") for s in self._changeable(state))
            return Reply(self._(self.flow.words["change_which"]), labels)
        if key == DONE:
            return Reply(self._(self.flow.words["done"]))
        if key == LANGUAGE:
            return Reply(self._(self.flow.words["choose_language"]), tuple(self.languages.values()))
        step = self.flow.step(key)
        text = self._(step.prompt_for(state["answers"]))
        if step.kind == "yesno":
            yes, no = self._(self.flow.words["yes"]), self._(self.flow.words["no"])
            return Reply(text, (yes, no))
        choices = tuple(self._(choice.label) for choice in step.choices)
        return Reply(text, choices, request_phone=step.asks_phone)

    def _changeable(self, state: dict[str, Any]) -> list[Step]:
        answers = state["answers"]
        return [
            s
            for s in self.flow.steps
            if s.summary and s.changeable and s.applies(answers) and s.key in answers
        ]

    def display(self, step: Step, value: Any) -> str:
        if step.kind == "yesno":
            return self._(self.flow.words["yes" if value else "no"])
        if step.kind == "choice":
            for choice in step.choices:
                if choice.value == value:
                    return self._(choice.label)
        return step.show(value) if step.show else str(value)

    def _summary(self, state: dict[str, Any]) -> Reply:
        answers = state["answers"]
        lines = [self._(self.flow.words["summary"])]
        for step in self.flow.steps:
            if step.summary and step.applies(answers) and step.key in answers:
                lines.append(f"• {self._(step.summary)}: {self.display(step, answers[step.key])}")
        confirm = (self._(self.flow.words["send"]), self._(self.flow.words["change_answer"]))
        return Reply("\n".join(lines), confirm)

    def _summary_reply(self, state: dict[str, Any], text: str) -> Turn:
        answer = normalise_reply(text)
        if answer in {"send", self._word("send"), *self._yes()}:
            answers = state["answers"]
            # Drop answers to questions that no longer apply; keep what the channel told us
            # (known_phone), which is no question's answer.
            asked = {s.key for s in self.flow.steps}
            state["answers"] = {
                key: value
                for key, value in answers.items()
                if key not in asked or self.flow.step(key).applies(answers)
            }
            return Turn(state, [], "completed")
        if answer in {"2", normalise_reply(self._(self.flow.words["change_answer"]))}:
            return self._command(state, "change")
        return Turn(state, [Reply(self._(self.flow.words["choice_error"])), self._summary(state)])

    def _language_reply(self, state: dict[str, Any], text: str) -> Turn:
        choices = tuple(Choice(code, name) for code, name in self.languages.items())
        answer = normalise_reply(text)
        picked = self._choose(choices, answer)
        if isinstance(picked, Invalid):
            by_name = {normalise_reply(name): code for code, name in self.languages.items()}
            picked = by_name.get(answer, picked)
        if isinstance(picked, Invalid):
            return Turn(state, [Reply(self._(picked.message)), self._prompt(state)])
        state["language"] = picked
        state["step"] = state.pop("resume", None) or self._next_key(state)
        return Turn(state, [], "language")

    def _change_reply(self, state: dict[str, Any], text: str) -> Turn:
        steps = self._changeable(state)
        choices = tuple(Choice(s.key, s.summary or s.key) for s in steps)
        picked = self._choose(choices, normalise_reply(text))
        if isinstance(picked, Invalid):
            return Turn(state, [Reply(self._(picked.message)), self._prompt(state)])
        del state["answers"][picked]
        state["step"] = picked
        return Turn(state, [self._prompt(state)])

    def _command(self, state: dict[str, Any], command: str) -> Turn:
        if command == "stop":
            return Turn(state, [Reply(self._(self.flow.words["stopped"]))], "stopped")
        if command == "help":
            return Turn(state, [Reply(self._(self.flow.words["help_text"])), self._prompt(state)])
        if command == "restart":
            gates = {s.key for s in self.flow.steps if s.gate}
            keep = {k: v for k, v in state["answers"].items() if k in gates}
            state.update(answers=keep, history=[k for k in state["history"] if k in keep])
            return self._move_on(state)
        if command == "language":
            if state["step"] != LANGUAGE:
                state["resume"] = state["step"]
            state["step"] = LANGUAGE
            return Turn(state, [self._prompt(state)])
        if state["step"] == DONE:
            return Turn(state, [Reply(self._(self.flow.words["done"]))])
        if command == "change":
            if not self._changeable(state):
                return Turn(
                    state,
                    [Reply(self._(self.flow.words["nothing_to_change"])), self._prompt(state)],
                )
            state["step"] = CHANGE
            return Turn(state, [self._prompt(state)])
        # back: forget the last answer given and ask that question again
        history = state["history"]
        if not history or self.flow.step(history[-1]).gate:
            return Turn(state, [Reply(self._(self.flow.words["at_start"])), self._prompt(state)])
        last = history.pop()
        state["answers"].pop(last, None)
        state["step"] = last
        return Turn(state, [self._prompt(state)])
