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


GSM7 = GSM7_BASIC | GSM7_EXTENSION


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


def _units(text: str) -> tuple[int, int, int, int]:
    """The text's cost in units, how many of its characters cost two (an escape or a surrogate
    pair, never split between parts), and the single-SMS and per-part limits of its encoding.
    Counted with C-level string methods: `split` asks this once per word of a long reply."""
    if is_gsm7(text):
        doubles = sum(map(text.count, GSM7_EXTENSION))
        return len(text) + doubles, doubles, GSM7_SINGLE, GSM7_PART
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    return units, units - len(text), UCS2_SINGLE, UCS2_PART


def segment_count(text: str) -> int:
    """How many SMS the text is sent as; an escape pair or a surrogate pair is never split."""
    total, doubles, single, part = _units(text)
    if total <= single:
        return 1
    if not doubles:
        return -(-total // part)
    gsm = single == GSM7_SINGLE
    count, used = 1, 0
    for char in text:
        unit = 2 if (char in GSM7_EXTENSION if gsm else ord(char) > 0xFFFF) else 1
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
        words = _words(line, first_glue="\n" if current else "")
        start = 0
        while start < len(words):
            taken = _most_words(current, words[start:], fits)
            if taken:  # as many words as fit join this message (found by halving, not one by one)
                current = _joined(current, words[start : start + taken])
                start += taken
                continue
            if current:
                pieces.append(current)
            current = words[start][0]
            start += 1
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


def _joined(current: str, words: list[tuple[str, str]]) -> str:
    for word, glue in words:
        current = current + glue + word if current else word
    return current


def _most_words(current: str, words: list[tuple[str, str]], fits: Callable[[str], bool]) -> int:
    """How many of `words` fit after `current` (adding words never makes a text cheaper)."""
    low, high = 0, len(words)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(_joined(current, words[:middle])):
            low = middle
        else:
            high = middle - 1
    return low


def _longest_prefix(text: str, fits: Callable[[str], bool]) -> str:
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(text[:middle]):
            low = middle
        else:
            high = middle - 1
    return text[:low]
