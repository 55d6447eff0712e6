"""Dictionary forms of a message's words, so one pattern catches "killed", "kills" and "killing".

simplemma (its dictionaries ship inside the package) covers en, cy, pl, ro, pt, es and uk of the
service's languages; its Arabic only knows a few surface forms, so ar, ur, pa, bn, gu and so are
matched by hand-written stems instead. Loading simplemma's full dictionaries costs seconds and
hundreds of megabytes (Polish alone: 3.7 million forms, ~400 MB), for a few hundred words the
patterns use. So `python -m flows.safeguarding` keeps, per language, only the forms
whose dictionary form a pattern mentions, keyed by the folded spelling ("zabil" as well as
"zabił"), in `locales/safeguarding/lemmas/<language>.tsv`. A table written for other
patterns is ignored and the dictionary read live instead: slower, never wrong.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

from flows.safeguarding.text import DEFAULT_DIRECTORY, normalise

LEMMATISED = ("en", "cy", "pl", "ro", "pt", "es", "uk")
TABLE_DIRECTORY = DEFAULT_DIRECTORY / "lemmas"
Table = dict[str, tuple[str, ...]]
_MARKS = re.compile(r"[\u0300-\u036f]")


def signature(words: Iterable[str]) -> str:
    """What a table was built for: the patterns' words."""
    return hashlib.sha256("\n".join(sorted(set(words))).encode()).hexdigest()[:16]


def _vocabulary(words: Iterable[str]) -> re.Pattern[str]:
    """The patterns' words (`*` for any letters) as one regex a lemma must match in full."""
    found = {"[^ =]*".join(map(re.escape, w.split("*"))) for w in words}
    return re.compile("|".join(sorted(found)) or "(?!)")


def build(language: str, words: Iterable[str]) -> Table:
    """Every folded form in simplemma's dictionary whose lemma is one of these words."""
    # Only here, not at import: the dictionaries are read once, to write the tables.
    from simplemma.strategies import DefaultDictionaryFactory

    wanted = _vocabulary(words)
    dictionary = DefaultDictionaryFactory(cache_max_size=1).get_dictionary(language)
    lemmas: dict[str, str] = {}
    for lemma in set(dictionary.values()):
        quick = _MARKS.sub("", unicodedata.normalize("NFKD", lemma.casefold()))
        if wanted.fullmatch(quick) or not quick.isascii():
            plain = normalise(lemma)
            if " " not in plain and wanted.fullmatch(plain):
                lemmas[lemma] = plain
    table: dict[str, set[str]] = {}
    for form, lemma in dictionary.items():
        folded = lemmas.get(lemma)
        if folded and (key := normalise(form)) != folded and " " not in key:
            table.setdefault(key, set()).add(folded)
    return {key: tuple(sorted(found)) for key, found in sorted(table.items())}


def load(language: str, words: Iterable[str], folder: Path = TABLE_DIRECTORY) -> Table:
    """The saved table when it was built for these words, else one built now (slow)."""
    words = list(words)
    path, saved, built_for = folder / f"{language}.tsv", {}, ""
    if path.is_file():
        header, *lines = path.read_text(encoding="utf-8").splitlines()
        built_for = header.split()[2] if len(header.split()) > 2 else ""
        saved = {key: tuple(found.split(",")) for key, found in (ln.split("\t") for ln in lines)}
    if built_for == signature(words):
        return saved
    try:
        return build(language, words)
    except ImportError:  # simplemma not installed: a slightly stale table beats none
        return saved


def write(language: str, words: Iterable[str], folder: Path = TABLE_DIRECTORY) -> int:
    words = list(words)
    table = build(language, words)
    lines = [f"# {language} {signature(words)} simplemma {version('simplemma')}"]
    lines += [f"{key}\t{','.join(found)}" for key, found in table.items()]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{language}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(table)


def forms(word: str, table: Table) -> str:
    """A token for the concept view: the word and its lemmas joined by "=" ("killed=kill")."""
    lemmas = table.get(word)
    return "=".join((word, *lemmas)) if lemmas else word
