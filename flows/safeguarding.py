"""Spot inbound text that suggests a child at risk, in any of the service's languages.

A miss is far worse than a false alarm, so text is normalised hard (disguises, accents,
spacing, look-alike letters) and every language's list is checked, not just the contact's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

LANGUAGES = ("en", "cy", "pl", "ro", "pa", "ur", "pt", "es", "ar", "bn", "gu", "so", "uk")
DEFAULT_DIRECTORY = Path(__file__).parent.parent / "locales" / "safeguarding"

_LGC = frozenset({"LATIN", "GREEK", "CYRILLIC"})
_INVISIBLE = dict.fromkeys(
    [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x206A), 0xFEFF, 0x00AD]
)
# Letters NFKD cannot split, and Arabic-script letters that keyboards use interchangeably.
_FOLD = str.maketrans(
    {"ł": "l", "đ": "d", "ø": "o", "ħ": "h", "ı": "i", "ŧ": "t", "æ": "ae", "œ": "oe"}
    | {"ʼ": "'", "ـ": "", "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ی", "ي": "ی"}
    | {"ك": "ک", "ة": "ه", "ۃ": "ه", "ہ": "ه", "ھ": "ه"}
)
_LOOKALIKE = str.maketrans("аеорсухіјѕԁӏһԛԝкмнтвαεορτυχικνβ", "aeopcyxijsdlhqwkmhtbaeoptuxikvb")
_TO_CYRILLIC = str.maketrans("aeopcyxi", "аеорсухі")
_LEET = str.maketrans("013457@$!", "oieastasi")
# Short digit runs and symbols before a letter: "k1ll", "$elf", never "07700 900123".
_LEET_RE = re.compile(r"(?<!\d)\d{1,2}(?!\d)|[@$!](?=\w)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SPACED = re.compile(r"(?<!\S)[^\W\d_](?: [^\W\d_])+(?!\S)")


@lru_cache(maxsize=8192)
def _script(char: str) -> str:
    """First word of the Unicode name (LATIN, CYRILLIC, ARABIC ...): cheap script test."""
    return unicodedata.name(char, "").split(" ", 1)[0]


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _fold_marks(text: str) -> str:
    """Drop accents on Latin/Greek/Cyrillic letters only; Indic and Arabic marks carry meaning."""
    out: list[str] = []
    lgc_base = False
    for char in text:
        if _is_mark(char):
            if not lgc_base:
                out.append(char)
            continue
        lgc_base = _script(char) in _LGC
        if lgc_base:
            out.extend(c for c in unicodedata.normalize("NFKD", char) if not _is_mark(c))
        else:
            out.append(char)
    return "".join(out)


def _clean_token(token: str) -> str:
    """Undo digit swaps and look-alike letters, then turn punctuation into spaces."""
    if _EMAIL.fullmatch(token):
        return token  # whole, so an address's digits are never read as letters
    if any(c.isalpha() and _script(c) in _LGC for c in token):
        token = _LEET_RE.sub(lambda m: m.group().translate(_LEET), token)
    words = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in token).split()
    latin = [any(_script(c) == "LATIN" for c in w) for w in words]
    return " ".join(
        w.translate(_LOOKALIKE) if lat else w for w, lat in zip(words, latin, strict=True)
    )


def _normalise_once(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
    text = _fold_marks(unicodedata.normalize("NFKC", text.casefold())).translate(_FOLD)
    return " ".join(filter(None, map(_clean_token, text.split())))


def normalise(text: str) -> str:
    """Canonical form for matching: phrases and messages go through exactly this.

    Unicode steps interact (a fold can expose a new composition), so repeat until stable;
    that keeps normalise idempotent.
    """
    for _ in range(4):
        again = _normalise_once(text)
        if again == text:
            break
        text = again
    return text


def _cyrillic_words(text: str) -> str:
    """Ukrainian typed with a Latin "i" or "a": read mostly-Cyrillic words as Cyrillic."""
    words = []
    for word in unicodedata.normalize("NFKC", text).casefold().split():
        scripts = [_script(c) for c in word if c.isalpha()]
        if scripts.count("CYRILLIC") > scripts.count("LATIN") > 0:
            word = word.translate(_TO_CYRILLIC)
        words.append(word)
    return " ".join(words)


def _spaced_runs(text: str) -> tuple[str, list[str]]:
    """Join letters typed apart ("k i l l myself"): the joined text, and each joined run."""
    runs = [m.group().replace(" ", "") for m in _SPACED.finditer(text)]
    return _SPACED.sub(lambda m: m.group().replace(" ", ""), text), runs


def _views(text: str) -> list[tuple[str, bool]]:
    """Strings to search, each with whether a phrase must start at a word boundary in it."""
    views: list[tuple[str, bool]] = []
    for variant in dict.fromkeys((normalise(text), normalise(_cyrillic_words(text)))):
        joined, runs = _spaced_runs(variant)
        views += [(variant, True), (joined, True), *((run, False) for run in runs)]
    return list(dict.fromkeys(views))


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
    if _script(words[0][0]) not in _LGC:
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


class RiskPhrases:
    """Every language's phrase list, normalised and compiled once."""

    def __init__(self, lists: Mapping[str, Iterable[tuple[str, str]]]) -> None:
        self._lists = {
            language: [p for c, text in pairs if (p := _compile(c, text)) is not None]
            for language, pairs in lists.items()
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

    def find(self, text: str, languages: Iterable[str] = LANGUAGES) -> RiskMatch | None:
        """First phrase found, trying the given languages in order, then English."""
        wanted = [languages] if isinstance(languages, str) else list(languages)
        views = _views(text)
        for language in dict.fromkeys([*(w.lower() for w in wanted), "en"]):
            for p in self._lists.get(language, []):
                if any((p.bounded if b else p.anywhere).search(v) for v, b in views):
                    return RiskMatch(language, p.category, p.phrase)
        return None


@cache
def _default_phrases() -> RiskPhrases:
    return RiskPhrases.load()


def find_risk(text: str, language: str | None = None) -> RiskMatch | None:
    """Check the contact's language, then English, then every other list: parents mix languages."""
    phrases = _default_phrases()
    first = (language or "en").lower().replace("_", "-").split("-")[0]
    return phrases.find(text, [first, "en", *phrases.languages])
