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
_LEET = str.maketrans("013457@$!", "oieastasi")
# Short digit runs and symbols before a letter: "k1ll", "$elf", never "07700 900123".
_LEET_RE = re.compile(r"(?<!\d)\d{1,2}(?!\d)|[@$!](?=\w)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


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
