"""The editable phrase lists (`locales/safeguarding/<language>.txt`): a manager adds a phrase
and it is caught from the next restart, in every language, however it is disguised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flows.safeguarding.text import DEFAULT_DIRECTORY, LANGUAGES, LGC, normalise, script
from flows.safeguarding.views import views


@dataclass(frozen=True)
class RiskMatch:
    """Which list caught a message. Log these fields, never the parent's text beside them."""

    language: str
    category: str
    phrase: str


@dataclass(frozen=True)
class _Phrase:
    category: str
    phrase: str
    bounded: re.Pattern[str]
    anywhere: re.Pattern[str]


def _compile(category: str, phrase: str) -> _Phrase | None:
    """Phrase-start boundary for Latin/Greek/Cyrillic (so "rapist" misses "therapist") and
    suffixes allowed ("abus" catches "abused"); substring elsewhere, where spacing is unreliable.
    Later words may be run together or split ("killmyself", "kill my self"); the first word
    stays whole so "abus" does not catch "a bus"."""
    words = normalise(phrase).split()
    if not words:
        return None
    later = (r"\s*".join(map(re.escape, word)) for word in words[1:])
    anywhere = re.compile(r"\s*".join([re.escape(words[0]), *later]))
    if script(words[0][0]) not in LGC:
        return _Phrase(category, phrase, anywhere, anywhere)
    return _Phrase(category, phrase, re.compile(r"(?<!\w)" + anywhere.pattern), anywhere)


def _parse(text: str) -> list[tuple[str, str]]:
    """A phrase file: `[category]` headings, one phrase a line, `#` starts a comment."""
    category, found = "unsafe", []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            category = line[1:-1].strip().casefold()
        elif line:
            found.append((category, line))
    return found


_NEVER = re.compile(r"(?!)")


def _either(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns) or _NEVER.pattern)


class RiskPhrases:
    """Every language's phrase list, normalised and compiled once."""

    def __init__(self, lists: Mapping[str, Iterable[tuple[str, str]]]) -> None:
        self._lists = {
            language: [p for c, text in pairs if (p := _compile(c, text)) is not None]
            for language, pairs in lists.items()
        }
        # One search per view turns an innocent message away; only a hit looks phrase by phrase.
        self._any = {
            language: (_either(p.bounded for p in found), _either(p.anywhere for p in found))
            for language, found in self._lists.items()
        }

    @classmethod
    def load(cls, directory: Path | None = None) -> RiskPhrases:
        """Read `<language>.txt` files; an empty folder is an error, never a silent no-match."""
        folder = DEFAULT_DIRECTORY if directory is None else Path(directory)
        order = {language: i for i, language in enumerate(LANGUAGES)}
        files = sorted(folder.glob("*.txt"), key=lambda f: (order.get(f.stem, len(order)), f.stem))
        if not files:
            raise FileNotFoundError(f"no safeguarding phrase files in {folder}")
        return cls({f.stem: _parse(f.read_text(encoding="utf-8-sig")) for f in files})

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._lists)

    def phrases(self, language: str) -> list[tuple[str, str]]:
        """(category, phrase) pairs as written in the file, e.g. for a manager's review."""
        return [(p.category, p.phrase) for p in self._lists.get(language, [])]

    def find_in(self, text: str, language: str) -> RiskMatch | None:
        """The first of this language's phrases found in the message, or None."""
        found = views(text)
        bounded, anywhere = self._any.get(language, (_NEVER, _NEVER))
        if not any((bounded if b else anywhere).search(v) for v, b in found):
            return None
        for p in self._lists.get(language, []):
            if any((p.bounded if b else p.anywhere).search(v) for v, b in found):
                return RiskMatch(language, p.category, p.phrase)
        return None

    def find(self, text: str, languages: Iterable[str] = LANGUAGES) -> RiskMatch | None:
        """First phrase found, trying the given languages in order, then English."""
        wanted = [languages] if isinstance(languages, str) else list(languages)
        for language in dict.fromkeys([*(w.lower() for w in wanted), "en"]):
            if match := self.find_in(text, language):
                return match
        return None
