"""Concept patterns (`locales/safeguarding/concepts/<language>.txt`): one line catches a way of
saying a risk whatever the verb's ending, the pronoun's place or the words in between.

A pattern is words separated by spaces, each matching one word of the message:
- `kill` matches the word or any word whose dictionary form it is ("killed", "kills");
  `=mata` only the word as typed, never through its dictionary form;
- `suicid*` any word starting so, `*کشی` any word ending so, `*ضرب*` any word containing it;
- `(himself|herself|myself)` any one of these;
- `~3` up to three other words before the next one ("end ~3 life": "end his own life");
- `!(school|lessons)` the next word is none of these ("missing" but not "missing school");
  `!~3(fine|fines)` none of the next three words is ("hitting us" but not "hitting us with fines").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flows.safeguarding import anchors, lemmas
from flows.safeguarding.phrases import RiskMatch
from flows.safeguarding.text import DEFAULT_DIRECTORY, LANGUAGES, normalise
from flows.safeguarding.views import concept_views

CONCEPT_DIRECTORY = DEFAULT_DIRECTORY / "concepts"
_OTHER = "[^ =]*"  # what a `*` stands for: any letters inside one word
_GAP = re.compile(r"~(\d{1,2})")


class PatternError(ValueError):
    """A concept line that cannot be read; raised at load, so a typo never fails silently."""


def _word(word: str, line: str) -> str:
    """One word, `*` standing for any letters, as a regex for one whole token ("killed=kill")
    one of whose forms (its surface or a lemma) it matches."""
    surface_only = word.startswith("=")
    pieces = [normalise(piece) for piece in word.removeprefix("=").split("*")]
    if any(" " in piece for piece in pieces) or not "".join(pieces):
        raise PatternError(f"{line!r}: {word!r} is not one word")
    form = _OTHER.join(map(re.escape, pieces))
    if surface_only:  # the word as typed, not its lemma: "me mata" but not "me está matando"
        return rf"{form}(?![^ =])[^ ]*+"
    # Skip whole forms, never letters, before trying this one: a few steps per token.
    return rf"(?:[^ =]*+=)*?{form}(?![^ =])[^ ]*+"


def _words(option: str) -> list[str]:
    """A choice's words; a plain word that normalises to two ("matar-se", "б'є") is two."""
    return [
        piece
        for word in option.split()
        for piece in ([word] if "*" in word or word.startswith("=") else normalise(word).split())
    ]


def _element(text: str, line: str) -> str:
    """`word` or `(a|b c|d*)`: one of these, each a word or words in a row."""
    inner = text[1:-1] if text.startswith("(") and text.endswith(")") else text
    options = [" ".join(_word(w, line) for w in _words(option)) for option in inner.split("|")]
    if not all(options):
        raise PatternError(f"{line!r}: empty choice in {text!r}")
    return "(?:" + "|".join(options) + ")"


_ELEMENT = re.compile(r"(!(?:~\d{1,2})?)?(\([^()]*\)|[^\s()]+)|(\S)")


def compile_pattern(line: str) -> re.Pattern[str]:
    """One pattern line as a regex over a concept view (tokens of "="-joined forms)."""
    parts, gap, started = [r"(?<![^ ])"], 0, False
    for negation, element, stray in _ELEMENT.findall(line):
        if stray:
            raise PatternError(f"{line!r}: unbalanced {stray!r}")
        if gap_match := _GAP.fullmatch(element):
            gap = int(gap_match.group(1))
        elif negation:
            within = int(negation[2:] or 1)
            skip = rf"(?: [^ ]+){{0,{within - 1}}}" if within > 1 else ""
            parts.append(rf"(?!{skip} {_element(element, line)})")
        else:
            if started:
                parts.append(rf"(?: [^ ]+){{0,{gap}}} " if gap else " ")
            parts.append(_element(element, line))
            gap, started = 0, True
    if not started:
        raise PatternError(f"{line!r}: no word to match")
    return re.compile("".join(parts))


def _anchor(line: str) -> list[anchors.Key]:
    """The words to look up before trying this pattern (see anchors.py)."""
    elements = []
    for negation, element, _stray in _ELEMENT.findall(line):
        if negation or _GAP.fullmatch(element):
            continue
        inner = element[1:-1] if element.startswith("(") else element
        keys = []
        for option in inner.split("|"):
            words = ["*".join(normalise(p) for p in w.split("*")) for w in _words(option)]
            keys.append(max((anchors.key(w) for w in words), key=lambda k: len(k[1])))
        elements.append(keys)
    return anchors.best(elements)


@dataclass(frozen=True)
class _Concept:
    category: str
    line: str
    pattern: re.Pattern[str]


def _parse(text: str) -> list[tuple[str, str]]:
    """`[category]` headings, one pattern a line, `#` starts a comment."""
    category, found = "unsafe", []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            category = line[1:-1].strip().casefold()
        elif line:
            found.append((category, " ".join(line.split())))
    return found


def _compiled(language: str, pairs: list[tuple[str, str]]) -> list[_Concept]:
    try:
        return [_Concept(category, line, compile_pattern(line)) for category, line in pairs]
    except PatternError as error:
        raise PatternError(f"concepts/{language}.txt: {error}") from error


class RiskConcepts:
    """Every language's concept patterns, compiled once and indexed by anchor word, so an
    innocent message is turned away by dictionary look-ups."""

    def __init__(self, lists: dict[str, list[tuple[str, str]]]) -> None:
        self._tables = {
            language: lemmas.load(language, _lemma_words(line for _, line in pairs))
            for language, pairs in lists.items()
            if language in lemmas.LEMMATISED
        }
        self._concepts = {language: _compiled(language, pairs) for language, pairs in lists.items()}
        self._anchors = {
            language: anchors.AnchorIndex([_anchor(c.line) for c in concepts])
            for language, concepts in self._concepts.items()
        }

    @classmethod
    def load(cls, directory: Path | None = None) -> RiskConcepts:
        folder = CONCEPT_DIRECTORY if directory is None else Path(directory)
        files = sorted(folder.glob("*.txt"))
        if not files:
            raise FileNotFoundError(f"no safeguarding concept files in {folder}")
        return cls({f.stem: _parse(f.read_text(encoding="utf-8-sig")) for f in files})

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._concepts)

    def patterns(self, language: str) -> list[tuple[str, str]]:
        """(category, pattern line) pairs as written in the file."""
        return [(c.category, c.line) for c in self._concepts.get(language, [])]

    def find_in(self, text: str, language: str) -> RiskMatch | None:
        """The first of this language's concepts the message says, or None."""
        index = self._anchors.get(language)
        if index is None:
            return None
        table = self._tables.get(language)
        views = concept_views(text)
        readings = views if table is None else _readings(views, table)
        forms = {
            form for reading in readings for token in reading.split() for form in token.split("=")
        }
        for number in index.candidates(forms):
            concept = self._concepts[language][number]
            if any(concept.pattern.search(reading) for reading in readings):
                return RiskMatch(language, concept.category, concept.line)
        return None

    def find(self, text: str, languages: Iterable[str] = LANGUAGES) -> RiskMatch | None:
        wanted = [languages] if isinstance(languages, str) else list(languages)
        for language in dict.fromkeys(w.lower() for w in wanted):
            if match := self.find_in(text, language):
                return match
        return None


def _readings(views: tuple[str, ...], table: lemmas.Table) -> tuple[str, ...]:
    """The message's concept views with each word's dictionary forms ("killed=kill")."""
    return tuple(" ".join(lemmas.forms(word, table) for word in view.split()) for view in views)


def _lemma_words(lines: Iterable[str]) -> list[str]:
    """Every word the patterns match through its dictionary form (not `=word`), normalised."""
    found = []
    for line in lines:
        for _negation, element, _stray in _ELEMENT.findall(line):
            if _GAP.fullmatch(element):
                continue
            inner = element[1:-1] if element.startswith("(") else element
            for option in inner.split("|"):
                for word in _words(option):
                    if not word.startswith("="):
                        found.append("*".join(normalise(piece) for piece in word.split("*")))
    return found


def lemma_words(text: str) -> list[str]:
    """The words a concept file's lemma table must cover."""
    return _lemma_words(line for _, line in _parse(text))
