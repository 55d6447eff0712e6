"""The safeguarding evaluation set: per language, messages that must get the safety reply
(`risk:`) and messages that must not (`safe:`), and the score of the matcher on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flows.safeguarding import LANGUAGES, find_risk

FOLDER = Path(__file__).parent
MIN_RISK, MIN_SAFE = 30, 15
MAX_FALSE_POSITIVE_RATE = 0.05


@dataclass(frozen=True)
class Example:
    language: str
    risky: bool
    text: str


def load(language: str) -> list[Example]:
    """One file a language, `risk: ...` or `safe: ...` a line, `#` comments."""
    examples = []
    for raw in (FOLDER / f"{language}.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, text = line.partition(":")
        if not sep or label not in ("risk", "safe") or not text.strip():
            raise ValueError(f"{language}.txt: cannot read {line!r}")
        examples.append(Example(language, label == "risk", text.strip()))
    return examples


@dataclass
class Score:
    language: str
    risk: int = 0
    safe: int = 0
    missed: list[str] = field(default_factory=list)
    flagged: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return (self.risk - len(self.missed)) / self.risk if self.risk else 0.0

    @property
    def false_positive_rate(self) -> float:
        return len(self.flagged) / self.safe if self.safe else 0.0


def score(language: str) -> Score:
    """Run every example through find_risk with the language the contact would have chosen."""
    result = Score(language)
    for example in load(language):
        found = find_risk(example.text, language) is not None
        if example.risky:
            result.risk += 1
            if not found:
                result.missed.append(example.text)
        else:
            result.safe += 1
            if found:
                result.flagged.append(example.text)
    return result


def all_examples() -> list[Example]:
    return [example for language in LANGUAGES for example in load(language)]
