"""Extra words parents type for yes and no, per language (pure data, read by the engine).

The engine already accepts 1/2, English yes/no and the catalog's own Yes/No; these are the other
everyday forms (short, unaccented or typed in Latin letters) that a parent would send by SMS.
Keep every word in lower case, as `normalise_reply` leaves it.
"""

from __future__ import annotations

YES_WORDS: dict[str, frozenset[str]] = {
    "cy": frozenset({"ie", "oes", "ydw", "ydy", "ydyn", "cewch", "cei", "iawn", "yes"}),
    "pl": frozenset({"tak", "no tak", "jasne"}),
    "ro": frozenset({"da", "sigur"}),
    "pa": frozenset({"ਹਾਂ", "ਹਾਂ ਜੀ", "ਜੀ", "haan", "han", "ha"}),
    "ur": frozenset({"ہاں", "ہاں جی", "جی", "جی ہاں", "haan", "han", "ha", "ji"}),
    "pt": frozenset({"sim", "s", "claro"}),
    "es": frozenset({"sí", "si", "s", "claro", "vale"}),
    "ar": frozenset({"نعم", "ايوه", "أيوه", "ايوا", "اي", "aywa", "naam", "na'am"}),
    "bn": frozenset({"হ্যাঁ", "হ্যা", "হাঁ", "হা", "জি", "hna", "ha", "haan"}),
    "gu": frozenset({"હા", "હાં", "હા જી", "ha", "haa"}),
    "so": frozenset({"haa", "haye", "ha"}),
    "uk": frozenset({"так", "та", "ага", "tak"}),
}

NO_WORDS: dict[str, frozenset[str]] = {
    "cy": frozenset({"na", "nac oes", "nage", "nac ydw", "nac ydy", "na chewch", "dim"}),
    "pl": frozenset({"nie", "nie dziękuję"}),
    "ro": frozenset({"nu", "nu mulțumesc", "nu multumesc"}),
    "pa": frozenset({"ਨਹੀਂ", "ਨਹੀ", "ਨਾ", "ਨਹੀਂ ਜੀ", "nahi", "nahin", "na"}),
    "ur": frozenset({"نہیں", "نہی", "نا", "نہیں جی", "nahi", "nahin", "na"}),
    "pt": frozenset({"não", "nao", "n"}),
    "es": frozenset({"no", "n"}),
    "ar": frozenset({"لا", "لأ", "كلا", "la", "laa"}),
    "bn": frozenset({"না", "নাহ", "na"}),
    "gu": frozenset({"ના", "નહીં", "nahi", "na"}),
    "so": frozenset({"maya", "mayo"}),
    "uk": frozenset({"ні", "нi", "нє", "ni"}),
}


def yes_words(language: str) -> frozenset[str]:
    return YES_WORDS.get(language, frozenset())


def no_words(language: str) -> frozenset[str]:
    return NO_WORDS.get(language, frozenset())
