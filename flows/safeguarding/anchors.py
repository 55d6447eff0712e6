"""Which concept patterns could match a message at all, by dictionary look-ups, before any regex.

Each pattern is indexed under its most telling word (its anchor: "missing" in
`(he|she) ~3 missing`, not "he"): a pattern can only match when some word of the message, or
one of its dictionary forms, is that anchor, starts with it (`suicid*`), ends with it (`*کشی`)
or contains it (`*ضرب*`). An innocent message then costs a few dozen look-ups per language
instead of every pattern's regex; a message that names an anchor runs only those patterns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# A word of a pattern: (kind, literal), kind one of "exact", "prefix", "suffix", "infix", "any".
Key = tuple[str, str]


def key(word: str) -> Key:
    """How one pattern word (already normalised, `*` for any letters) can be looked up."""
    word = word.removeprefix("=")
    pieces = word.split("*")
    if len(pieces) == 1:
        return ("exact", word)
    if len(pieces) == 2 and pieces[0] and not pieces[1]:
        return ("prefix", pieces[0])
    if len(pieces) == 2 and pieces[1] and not pieces[0]:
        return ("suffix", pieces[1])
    longest = max(pieces, key=len)
    return ("infix", longest) if longest else ("any", "")


def best(elements: Sequence[list[Key]]) -> list[Key]:
    """The element whose shortest literal is longest: the least common words to look for."""
    usable = [keys for keys in elements if keys and all(kind != "any" for kind, _ in keys)]
    if not usable:
        return [("any", "")]
    return max(usable, key=lambda keys: (min(len(text) for _, text in keys), -len(keys)))


class AnchorIndex:
    """Pattern numbers by anchor, for one language."""

    def __init__(self, anchors: Sequence[list[Key]]) -> None:
        self._numbers = range(len(anchors))
        self._index: dict[Key, list[int]] = {}
        self._always: list[int] = []
        for number, keys in enumerate(anchors):
            for k in keys:
                if k[0] == "any":
                    self._always.append(number)
                else:
                    self._index.setdefault(k, []).append(number)
        self._lengths = {
            kind: sorted({len(text) for (k, text) in self._index if k == kind}, reverse=True)
            for kind in ("prefix", "suffix", "infix")
        }

    def candidates(self, forms: Iterable[str]) -> list[int]:
        """Numbers of the patterns that might match, in file order."""
        found = set(self._always)
        index, lengths = self._index, self._lengths
        for form in forms:
            found.update(index.get(("exact", form), ()))
            for n in lengths["prefix"]:
                if n <= len(form):
                    found.update(index.get(("prefix", form[:n]), ()))
            for n in lengths["suffix"]:
                if n <= len(form):
                    found.update(index.get(("suffix", form[-n:]), ()))
            for n in lengths["infix"]:
                for start in range(len(form) - n + 1):
                    found.update(index.get(("infix", form[start : start + n]), ()))
        return sorted(found)
