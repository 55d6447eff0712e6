"""Rewrite the lemma tables after editing `locales/safeguarding/concepts/<language>.txt`:

.venv/bin/python -m flows.safeguarding          # every language simplemma covers
.venv/bin/python -m flows.safeguarding pl es    # just these
"""

from __future__ import annotations

import sys

from flows.safeguarding.concepts import CONCEPT_DIRECTORY, lemma_words
from flows.safeguarding.lemmas import LEMMATISED, write


def main(languages: list[str]) -> None:
    for language in languages or LEMMATISED:
        text = (CONCEPT_DIRECTORY / f"{language}.txt").read_text(encoding="utf-8")
        print(language, write(language, lemma_words(text)), "forms")


if __name__ == "__main__":
    main(sys.argv[1:])
