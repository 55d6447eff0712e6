"""Print the evaluation table for docs/safeguarding.md, with the time per message.

.venv/bin/python -m tests.safeguarding.report            # print
.venv/bin/python -m tests.safeguarding.report --write    # also update docs/safeguarding.md
"""

from __future__ import annotations

import argparse
import time
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
    """CPU time per message over the whole set (process time, so other work on the machine
    does not count), warm: lists compiled, tables loaded, the per-message cache cleared."""
    warm()
    examples = all_examples()

    def per_message(texts: list[str]) -> float:
        best = float("inf")
        for _ in range(repeat):
            views.views.cache_clear()
            start = time.process_time()
            for message in texts:
                find_risk(message, "en")
            best = min(best, (time.process_time() - start) / len(texts))
        return best * 1000

    every = per_message([e.text for e in examples])
    safe = per_message([e.text for e in examples if not e.risky])
    longest = max((e.text for e in examples), key=len)
    return (
        f"CPU time per message, best of {repeat} runs over the {len(examples)} messages: "
        f"{every:.2f} ms on average, {safe:.2f} ms for an innocent one (it is checked against "
        f"everything), {per_message([longest]):.2f} ms for the longest ({len(longest)} characters)."
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
