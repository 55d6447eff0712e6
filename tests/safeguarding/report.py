"""Print the evaluation table for docs/safeguarding.md, with the time per message.

.venv/bin/python -m tests.safeguarding.report            # print
.venv/bin/python -m tests.safeguarding.report --write    # also update docs/safeguarding.md
"""

from __future__ import annotations

import argparse
import timeit
from pathlib import Path

from flows.safeguarding import LANGUAGES, find_risk, views, warm
from tests.safeguarding.evaluation import all_examples, score

DOC = Path(__file__).parent.parent.parent / "docs" / "safeguarding.md"
START, END = "<!-- evaluation:start -->", "<!-- evaluation:end -->"


def table() -> str:
    rows = [
        "| language | risk | caught | recall | safe | flagged | false positives |",
        "|---|---|---|---|---|---|---|",
    ]
    for language in LANGUAGES:
        s = score(language)
        rows.append(
            f"| {language} | {s.risk} | {s.risk - len(s.missed)} | {s.recall:.0%} | {s.safe} "
            f"| {len(s.flagged)} | {s.false_positive_rate:.0%} |"
        )
    return "\n".join(rows)


def timing(repeat: int = 5) -> str:
    """Per-message cost over the whole set, warm (dictionaries loaded, caches cleared)."""
    # the caches are cleared between runs, so every run reads every message afresh

    warm()
    texts = [e.text for e in all_examples()]

    def once() -> None:
        views.views.cache_clear()
        for message in texts:
            find_risk(message, "en")

    best = min(timeit.repeat(once, number=1, repeat=repeat))
    longest = max(texts, key=len)
    per_long = min(timeit.repeat(lambda: find_risk(longest + " x"), number=20, repeat=3)) / 20
    return (
        f"{len(texts)} messages, best of {repeat} runs: "
        f"{best / len(texts) * 1000:.2f} ms per message on average; "
        f"the longest ({len(longest)} characters) {per_long * 1000:.2f} ms."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/safeguarding.md")
    args = parser.parse_args()
    block = f"{START}\n{table()}\n\n{timing()}\n{END}"
    print(block)
    if args.write:
        doc = DOC.read_text(encoding="utf-8")
        head, _, rest = doc.partition(START)
        _, _, tail = rest.partition(END)
        DOC.write_text(head + block + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
