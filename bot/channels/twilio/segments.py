"""SMS segments counted the way the network counts them, so no reply costs or splits surprisingly.

GSM-7 carries 160 septets in one SMS or 153 per part of a longer one, and the extension table
(€, [, ], {, }, \\, ^, ~, |) costs two septets each. Anything outside GSM-7 sends the whole
message as UCS-2: 70 UTF-16 units, or 67 per part.
"""

from __future__ import annotations

from collections.abc import Callable

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67
MAX_SEGMENTS = 2

# Typography the intake uses that has a plain GSM-7 twin (as Twilio's Smart Encoding does).
PLAIN = str.maketrans(
    {
        "•": "-",
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def plain(text: str) -> str:
    """Swap typographic characters for GSM-7 ones, so English stays in cheap GSM-7."""
    return text.translate(PLAIN)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def _units(text: str) -> tuple[list[int], int, int]:
    """The cost of each character, and the single-SMS and per-part limits of the encoding."""
    if is_gsm7(text):
        return [2 if c in GSM7_EXTENSION else 1 for c in text], GSM7_SINGLE, GSM7_PART
    return [2 if ord(c) > 0xFFFF else 1 for c in text], UCS2_SINGLE, UCS2_PART


def segment_count(text: str) -> int:
    """How many SMS the text is sent as; an escape pair or a surrogate pair is never split."""
    units, single, part = _units(text)
    if sum(units) <= single:
        return 1
    count, used = 1, 0
    for unit in units:
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return count


def split(text: str, max_segments: int = MAX_SEGMENTS, max_chars: int | None = None) -> list[str]:
    """Cut a long text into messages of at most `max_segments` SMS (or `max_chars`) each.

    Cuts fall between lines first, then between words; a single word too long for a message
    (a pasted link, say) is the only thing ever cut in the middle.
    """

    def fits(candidate: str) -> bool:
        if max_chars is not None:
            return len(candidate) <= max_chars
        return segment_count(candidate) <= max_segments

    text = text.strip()
    if fits(text):
        return [text] if text else []
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        joined = current + "\n" + line if current else line
        if fits(joined):
            current = joined
            continue
        if fits(line):  # a whole line moves on rather than be cut
            if current:
                pieces.append(current)
            current = line
            continue
        for word, glue in _words(line, first_glue="\n" if current else ""):
            candidate = current + glue + word if current else word
            if fits(candidate):
                current = candidate
                continue
            if current:
                pieces.append(current)
            current = word
            while not fits(current):
                head = _longest_prefix(current, fits)
                pieces.append(head)
                current = current[len(head) :]
    if current:
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def _words(line: str, first_glue: str) -> list[tuple[str, str]]:
    words = line.split(" ")
    return [(word, first_glue if i == 0 else " ") for i, word in enumerate(words)]


def _longest_prefix(text: str, fits: Callable[[str], bool]) -> str:
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return text[:low]
