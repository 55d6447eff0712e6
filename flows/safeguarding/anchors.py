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
        self._always: list[int] = []
        # One table per kind, keyed by the literal alone: a look-up builds no tuple.
        self._tables: dict[str, dict[str, list[int]]] = {
            kind: {} for kind in ("exact", "prefix", "suffix", "infix")
        }
        for number, keys in enumerate(anchors):
            for kind, text in keys:
                if kind == "any":
                    self._always.append(number)
                else:
                    self._tables[kind].setdefault(text, []).append(number)
        self._lengths = {
            kind: sorted({len(text) for text in self._tables[kind]}, reverse=True)
            for kind in ("prefix", "suffix", "infix")
        }

    def candidates(self, forms: Iterable[str]) -> list[int]:
        """Numbers of the patterns that might match, in file order.

        Runs on every message in every language: a miss (nearly every look-up) costs one
        dict.get and nothing more."""
        found = set(self._always)
        exact, prefix = self._tables["exact"], self._tables["prefix"]
        suffix, infix = self._tables["suffix"], self._tables["infix"]
        prefix_lengths, suffix_lengths = self._lengths["prefix"], self._lengths["suffix"]
        infix_lengths = self._lengths["infix"]
        for form in forms:
            size = len(form)
            if hit := exact.get(form):
                found.update(hit)
            for n in prefix_lengths:
                if n <= size and (hit := prefix.get(form[:n])):
                    found.update(hit)
            for n in suffix_lengths:
                if n <= size and (hit := suffix.get(form[-n:])):
                    found.update(hit)
            for n in infix_lengths:
                for start in range(size - n + 1):
                    if hit := infix.get(form[start : start + n]):
                        found.update(hit)
        return sorted(found)
