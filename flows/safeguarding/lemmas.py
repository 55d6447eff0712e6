"""Dictionary forms of a message's words, so one pattern catches "killed", "kills" and "killing".

simplemma (its dictionaries ship inside the package) covers en, cy, pl, ro, pt, es and uk of the
service's languages; its Arabic only knows a few surface forms, so ar, ur, pa, bn, gu and so are
matched by hand-written stems instead. Welsh mutations come back unmutated ("nharo" → "taro").
"""

from __future__ import annotations

from functools import lru_cache

import simplemma

from flows.safeguarding.text import normalise

LEMMATISED = frozenset({"en", "cy", "pl", "ro", "pt", "es", "uk"})


@lru_cache(maxsize=65536)
def _lemma(word: str, language: str) -> str:
    """The dictionary form, normalised like the message (accents folded); "" when unknown."""
    try:
        lemma = simplemma.lemmatize(word, lang=language)
    except ValueError:  # a word simplemma's tokeniser rejects: no lemma, the surface still counts
        return ""
    plain = normalise(lemma)
    return plain if plain != word and " " not in plain else ""


def forms(word: str, typed: str, language: str) -> str:
    """A token for the concept view: the word and its lemmas joined by "=" ("killed=kill").

    `typed` is the word as the parent typed it (accents kept), which the dictionary knows
    better than the folded form."""
    if language not in LEMMATISED:
        return word
    found = [word]
    for source in dict.fromkeys((typed, word)):
        lemma = _lemma(source, language)
        if lemma and lemma not in found:
            found.append(lemma)
    return "=".join(found)


def warm(languages: frozenset[str] = LEMMATISED) -> None:
    """Load each dictionary now (Polish takes seconds), not while a parent waits."""
    for language in languages:
        _lemma("warm", language)
