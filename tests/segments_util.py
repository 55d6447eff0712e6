"""Count the SMS segments a text costs (GSM 03.38 default alphabet, else UCS-2).

Stands in for bot/channels/segments.py until the SMS channel lands; GSM-7 messages are 160
characters (153 a part when split), escape-table characters count twice; anything outside the
alphabet (ą, ș, ŵ, every non-Latin script) makes the whole message UCS-2: 70, or 67 a part.
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def units(text: str) -> int:
    """Septets for GSM-7 (escaped characters cost two), UTF-16 code units for UCS-2."""
    if is_gsm7(text):
        return sum(2 if c in GSM7_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-le")) // 2


def segments(text: str) -> int:
    size = units(text)
    single, part = (160, 153) if is_gsm7(text) else (70, 67)
    if size <= single:
        return 1
    return -(-size // part)
