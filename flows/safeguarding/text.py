"""Normalise a parent's message so disguises cannot hide a risk: accents, look-alike letters,
digit swaps ("k1ll"), invisible characters and letters typed apart ("k i l l").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("en", "cy", "pl", "ro", "pa", "ur", "pt", "es", "ar", "bn", "gu", "so", "uk")
DEFAULT_DIRECTORY = Path(__file__).parent.parent.parent / "locales" / "safeguarding"

LGC = frozenset({"LATIN", "GREEK", "CYRILLIC"})
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
def script(char: str) -> str:
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
        lgc_base = script(char) in LGC
        if lgc_base:
            out.extend(c for c in unicodedata.normalize("NFKD", char) if not _is_mark(c))
        else:
            out.append(char)
    return "".join(out)


def _clean_token(token: str) -> str:
    """Undo digit swaps and look-alike letters, then turn punctuation into spaces."""
    if _EMAIL.fullmatch(token):
        return token  # whole, so an address's digits are never read as letters
    if any(c.isalpha() and script(c) in LGC for c in token):
        token = _LEET_RE.sub(lambda m: m.group().translate(_LEET), token)
    words = "".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in token).split()
    latin = [any(script(c) == "LATIN" for c in w) for w in words]
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
        scripts = [script(c) for c in word if c.isalpha()]
        if scripts.count("CYRILLIC") > scripts.count("LATIN") > 0:
            word = word.translate(_TO_CYRILLIC)
        words.append(word)
    return " ".join(words)


def _spaced_runs(text: str) -> tuple[str, list[str]]:
    """Join letters typed apart ("k i l l myself"): the joined text, and each joined run."""
    runs = [m.group().replace(" ", "") for m in _SPACED.finditer(text)]
    return _SPACED.sub(lambda m: m.group().replace(" ", ""), text), runs


@lru_cache(maxsize=256)
def views(text: str) -> tuple[tuple[str, bool], ...]:
    """Strings to search, each with whether a phrase must start at a word boundary in it.

    Cached: the phrase lists and the concept patterns look at the same message."""
    found: list[tuple[str, bool]] = []
    for variant in dict.fromkeys((normalise(text), normalise(_cyrillic_words(text)))):
        joined, runs = _spaced_runs(variant)
        found += [(variant, True), (joined, True), *((run, False) for run in runs)]
    return tuple(dict.fromkeys(found))


# Words people censor with symbols ("k*ll", "su#cide", "r_pe"); a starred word that fits
# exactly one shape of these is read as it.
CENSORED_WORDS = frozenset(
    {
        "kill",
        "killing",
        "killed",
        "kills",
        "suicide",
        "suicidal",
        "rape",
        "raped",
        "raping",
        "abuse",
        "abused",
        "abusing",
        "abuser",
        "hurt",
        "hurts",
        "hurting",
        "harm",
        "harming",
        "die",
        "dying",
        "dead",
        "death",
        "cut",
        "cuts",
        "cutting",
        "stab",
        "stabbed",
        "sex",
        "sexual",
        "sexually",
        "molest",
        "molested",
        "touched",
        "touching",
        "beat",
        "beaten",
        "beating",
        "hit",
        "hits",
        "hitting",
        "punch",
        "punched",
        "strangle",
        "strangled",
        "choke",
        "choked",
        "overdose",
        "hang",
        "hanged",
        "hanging",
        "noose",
    }
)
_CENSOR_MARK = re.compile(r"[*#_]+")
_CENSORED = re.compile(r"[^\W_]*(?:[*#_]+[^\W_]*)+")


def _uncensor(match: re.Match[str]) -> str:
    word = match.group()
    pieces = _CENSOR_MARK.split(word.casefold())
    if sum(map(len, pieces)) < 2:
        return word
    shape = re.compile(r"[a-z]{1,3}".join(map(re.escape, pieces)))
    fits = {w for w in CENSORED_WORDS if shape.fullmatch(w)}
    return fits.pop() if len(fits) == 1 else word


def _compact(word: str) -> str:
    """One typed word whose pieces were split by dots, dashes or stars: "sui-cide", "k.i.l.l"."""
    parts = normalise(word).split()
    return "".join(parts) if len(parts) > 1 and not any(p.isdigit() for p in parts) else ""


@lru_cache(maxsize=256)
def concept_views(text: str) -> tuple[str, ...]:
    """The normalised texts the concept patterns read: each boundary-checked view, the message
    with starred words filled in, and one with split-up words joined ("sui-cide")."""
    found = [view for view, bounded in views(text) if bounded]
    uncensored = _CENSORED.sub(_uncensor, text)
    if uncensored != text:
        found.append(normalise(uncensored))
    words = uncensored.split()
    compacted = [_compact(word) or word for word in words]
    if compacted != words:
        found.append(normalise(" ".join(compacted)))
    return tuple(dict.fromkeys(found))
