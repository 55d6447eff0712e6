"""The checks every catalog must pass before it ships (run by tests/test_catalogs.py in CI).

A parent must never get English (or a half-translated message) because a catalog went stale,
lost a placeholder or silently fell back to the msgid. Each check returns readable problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.core.i18n import LOCALES, babel_locale

ROOT = LOCALES.parent
SOURCES = ("bot", "flows")
KEYWORDS: dict[str, None] = {"N_": None}  # as the Makefile's `pybabel extract -k N_`
REVIEW_MARK = "Reviewed by a native speaker:"
# A translation may equal its msgid only where the word really is the same in that language.
SAME_EVERYWHERE = frozenset({"OK", "SEN", "EHC"})
SAME_IN = {"es": frozenset({"No"})}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}|%\(([A-Za-z_][A-Za-z0-9_]*)\)[sd]")


def extracted_msgids(root: Path = ROOT, sources: Iterable[str] = SOURCES) -> set[str]:
    """Re-extract the source, as `make locales` would, and return its msgids."""
    found: set[str] = set()
    for source in sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            root / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, (tuple, list)) else message)
    return found


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog: Catalog) -> set[str]:
    return {_msgid(m) for m in catalog if m.id}


def _msgid(message: Message) -> str:
    return message.id[0] if isinstance(message.id, (tuple, list)) else str(message.id)


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in _PLACEHOLDER.findall(text)}


def languages_in(directory: Path = LOCALES) -> list[str]:
    return sorted(p.parent.parent.name for p in directory.glob("*/LC_MESSAGES/messages.po"))


def check_template(directory: Path = LOCALES, root: Path = ROOT) -> list[str]:
    """messages.pot holds exactly what the code marks with N_ (else: run `make locales`)."""
    template = _ids(read_catalog(directory / "messages.pot"))
    source = extracted_msgids(root)
    problems = [f"messages.pot is stale: missing {m!r}" for m in sorted(source - template)]
    problems += [f"messages.pot is stale: no longer used {m!r}" for m in sorted(template - source)]
    return problems


def check_language(language: str, directory: Path = LOCALES) -> list[str]:
    """Every problem in one language's catalog, each prefixed with the language code."""
    path = directory / language / "LC_MESSAGES" / "messages.po"
    catalog = read_catalog(path, babel_locale(language))
    template = _ids(read_catalog(directory / "messages.pot"))
    ids = _ids(catalog)
    problems = [f"missing {m!r} (run `make locales`)" for m in sorted(template - ids)]
    problems += [f"obsolete {m!r} (run `make locales`)" for m in sorted(ids - template)]
    if REVIEW_MARK not in (catalog.header_comment or ""):
        problems.append(f"header comment lacks {REVIEW_MARK!r} yes/no")
    expected = get_plural(babel_locale(language)).num_plurals
    if catalog.num_plurals != expected:
        problems.append(f"Plural-Forms has nplurals={catalog.num_plurals}, expected {expected}")
    same_ok = SAME_EVERYWHERE | SAME_IN.get(language, frozenset())
    for message in catalog:
        if not message.id:
            continue
        problems += _check_message(message, expected, same_ok)
    return [f"{language}: {p}" for p in problems]


def _check_message(message: Message, plurals: int, same_ok: frozenset[str]) -> list[str]:
    msgid = _msgid(message)
    sources = list(message.id) if isinstance(message.id, (tuple, list)) else [message.id]
    strings = (
        list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]
    )
    if message.fuzzy:
        return [f"fuzzy {msgid!r}: check it, then remove the fuzzy flag"]
    filled = [s for s in strings if s]
    if message.pluralizable and filled and len(filled) != plurals:
        # Babel pads a short list with empty strings: count the ones written.
        return [f"{msgid!r} has {len(filled)} plural forms, expected {plurals}"]
    if not all(strings):
        return [f"untranslated {msgid!r}"]
    problems: list[str] = []
    wanted = set().union(*(placeholders(str(s)) for s in sources))
    for text in (str(s) for s in strings):
        if placeholders(text) != wanted:
            problems.append(
                f"{msgid!r}: placeholders {sorted(placeholders(text))} != {sorted(wanted)}"
            )
        if text.strip() == str(sources[0]).strip() and msgid not in same_ok:
            problems.append(f"{msgid!r} is left in English (same as the msgid)")
    return problems


def review_status(language: str, directory: Path = LOCALES) -> str:
    """What the header says after "Reviewed by a native speaker:" ("no" until someone has)."""
    path = directory / language / "LC_MESSAGES" / "messages.po"
    header = read_catalog(path).header_comment or ""
    for line in header.splitlines():
        if REVIEW_MARK in line:
            return line.split(REVIEW_MARK, 1)[1].strip()
    return "unknown"


def known_locale(language: str) -> bool:
    """Babel knows how to write dates and plurals for it (a new language needs this)."""
    try:
        Locale.parse(babel_locale(language))
    except (ValueError, LookupError):
        return False
    return True
