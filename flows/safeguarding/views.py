"""The readings of one message that the phrase lists and concept patterns search: the message
normalised, and repaired where a parent (or a child) hid a word: letters typed apart
("k i l l"), a Ukrainian word typed with a Latin "i", a word split by dots or dashes
("sui-cide", "ab.used"), a starred word ("k*ll"), "1", "I" and "l" swapped ("ki11").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flows.safeguarding.text import normalise, script

_TO_CYRILLIC = str.maketrans("aeopcyxi", "аеорсухі")
_SPACED = re.compile(r"(?<!\S)[^\W\d_](?: [^\W\d_])+(?!\S)")

# Words people disguise; a disguised word that fits exactly one of these is read as it.
DISGUISED_WORDS = frozenset(
    " ".join(
        (
            "kill killing killed kills suicide suicidal rape raped raping abuse abused abusing",
            "abuser hurt hurts hurting harm harming die dying dead death cut cuts cutting stab",
            "stabbed sex sexual sexually molest molested touched touching beat beaten beating",
            "hit hits hitting punch punched strangle strangled choke choked overdose hang",
            "hanged hanging noose self myself himself herself",
        )
    ).split()
)
_CENSOR_MARK = re.compile(r"[*#_]+")
_INNER_MARK = re.compile(r"\w[^\w\s]+\w")
_CENSORED = re.compile(r"[^\W_]*(?:[*#_]+[^\W_]*)+")
# "1", "I", "l", "|" and "!" pass for one another: "ki11", "kiII", "kilI" all read "kill".
_SKELETON = str.maketrans("il1|!", "lllll")
_BY_SKELETON = {
    skeleton: words.pop()
    for skeleton in {w.translate(_SKELETON) for w in DISGUISED_WORDS}
    if len(words := {w for w in DISGUISED_WORDS if w.translate(_SKELETON) == skeleton}) == 1
}


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


def _uncensor(match: re.Match[str]) -> str:
    word = match.group()
    pieces = _CENSOR_MARK.split(word.casefold())
    if sum(map(len, pieces)) < 2:
        return word
    shape = re.compile(r"[a-z]{1,3}".join(map(re.escape, pieces)))
    fits = {w for w in DISGUISED_WORDS if shape.fullmatch(w)}
    return fits.pop() if len(fits) == 1 else word


def _compact(word: str) -> str:
    """One typed word split by dots, dashes or stars, joined again; "" when it was not."""
    if not _INNER_MARK.search(word):
        return ""
    parts = normalise(word).split()
    return "".join(parts) if len(parts) > 1 and not any(p.isdigit() for p in parts) else ""


def _unconfuse(word: str) -> str:
    if word in DISGUISED_WORDS or not any(c in word for c in "il1|!"):
        return word
    return _BY_SKELETON.get(word.casefold().translate(_SKELETON), word)


def _repaired(text: str, plain: str) -> list[str]:
    """The message with starred, split and look-alike words read as the words they hide;
    only the readings that differ from `plain`, the message normalised."""
    found = []
    if any(mark in text for mark in "*#_"):
        text = _CENSORED.sub(_uncensor, text)
        found.append(normalise(text))
    compacted = [_compact(word) or word for word in text.split()]
    if compacted != text.split():
        found.append(normalise(" ".join(compacted)))
    words = (found[-1] if found else plain).split()
    unconfused = [_unconfuse(word) for word in words]
    if unconfused != words:
        found.append(" ".join(unconfused))
    return found


@lru_cache(maxsize=256)
def views(text: str) -> tuple[tuple[str, bool], ...]:
    """Strings to search, each with whether a phrase must start at a word boundary in it.

    Cached: the phrase lists and the concept patterns look at the same message."""
    plain = normalise(text)
    variants = [plain, *_repaired(text, plain)]
    if any(script(c) == "CYRILLIC" for c in text if c.isalpha()):
        variants.append(normalise(_cyrillic_words(text)))
    found: list[tuple[str, bool]] = []
    for variant in dict.fromkeys(variants):
        joined, runs = _spaced_runs(variant)
        found += [(variant, True), (joined, True), *((run, False) for run in runs)]
    return tuple(dict.fromkeys(found))


def concept_views(text: str) -> tuple[str, ...]:
    """The views the concept patterns read: all of those searched from a word boundary."""
    return tuple(view for view, bounded in views(text) if bounded)
