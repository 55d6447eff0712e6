"""Safeguarding matcher: every language catches risk, innocent SEND questions pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.safeguarding import (
    DEFAULT_DIRECTORY,
    LANGUAGES,
    RiskMatch,
    RiskPhrases,
    find_risk,
    normalise,
)

# (language, message, expected category)
RISKY = [
    ("en", "My son keeps saying he wants to kill himself", "self-harm"),
    ("en", "Her stepdad hits her when she gets upset", "abuse"),
    ("en", "My daughter ran away last night and isn't answering", "missing"),
    ("en", "He says he is scared to go home after school", "unsafe"),
    ("cy", "Mae fy mab yn dweud ei fod eisiau lladd ei hun", "self-harm"),
    ("cy", "Mae ei lystad yn ei daro", "abuse"),
    ("cy", "Mae fy merch ar goll ers neithiwr", "missing"),
    ("pl", "Mój syn mówi, że chce się zabić", "self-harm"),
    ("pl", "Ojczym go bije", "abuse"),
    ("pl", "Córka zaginęła wczoraj", "missing"),
    ("ro", "Fiica mea spune că vrea să moară", "self-harm"),
    ("ro", "Tatăl lui îl bate în fiecare seară", "abuse"),
    ("ro", "Fiul meu a dispărut de ieri", "missing"),
    ("pa", "ਮੇਰਾ ਪੁੱਤਰ ਕਹਿੰਦਾ ਹੈ ਕਿ ਉਹ ਮਰਨਾ ਚਾਹੁੰਦਾ ਹੈ", "self-harm"),
    ("pa", "ਉਸਦਾ ਮਤਰੇਆ ਪਿਤਾ ਉਸਨੂੰ ਕੁੱਟਦਾ ਹੈ", "abuse"),
    ("pa", "ਮੇਰੀ ਧੀ ਕੱਲ੍ਹ ਤੋਂ ਲਾਪਤਾ ਹੈ", "missing"),
    ("ur", "میرا بیٹا کہتا ہے کہ وہ مرنا چاہتا ہے", "self-harm"),
    ("ur", "اس کا باپ اسے مارتا ہے", "abuse"),
    ("ur", "میری بیٹی لاپتہ ہے", "missing"),
    ("pt", "Meu filho diz que quer se matar", "self-harm"),
    ("pt", "O padrasto espanca a minha filha", "abuse"),
    ("pt", "A minha filha fugiu de casa", "missing"),
    ("es", "Mi hija dice que quiere morir", "self-harm"),
    ("es", "Su padre le pega todos los días", "abuse"),
    ("es", "Mi hijo está desaparecido desde ayer", "missing"),
    ("ar", "ابني يقول إنه يريد أن يموت", "self-harm"),
    ("ar", "زوجي يضرب ابني", "abuse"),
    ("ar", "ابنتي مفقودة منذ أمس", "missing"),
    ("bn", "আমার মেয়ে বলে সে মরে যেতে চায়", "self-harm"),
    ("bn", "ওর সৎবাবা ওকে মারধর করে", "abuse"),
    ("bn", "আমার ছেলে গতকাল থেকে নিখোঁজ", "missing"),
    ("gu", "મારો દીકરો કહે છે કે તે મરવા માંગે છે", "self-harm"),
    ("gu", "તેના સાવકા પિતા તેની સાથે મારપીટ કરે છે", "abuse"),
    ("gu", "મારી દીકરી ગઈકાલથી ગુમ થઈ ગઈ છે", "missing"),
    ("so", "Wiilkaygu wuxuu yiri wuxuu rabaa inuu dhinto", "self-harm"),
    ("so", "Aabihiis ayaa garaaca habeen kasta", "abuse"),
    ("so", "Gabadhaydu way lumay shalay", "missing"),
    ("uk", "Мій син каже, що хоче померти", "self-harm"),
    ("uk", "Вітчим його б'є", "abuse"),
    ("uk", "Моя донька зникла вчора", "missing"),
]

INNOCENT = [
    ("en", "My son needs an EHC plan"),
    ("en", "The school won't do an annual review"),
    ("en", "The therapist said he needs speech therapy"),
    ("en", "She is autistic and finds the bus to school hard"),
    ("cy", "Mae angen cynllun datblygu unigol ar fy mab"),
    ("cy", "Dydy'r ysgol ddim yn cynnal adolygiad blynyddol"),
    ("pl", "Mój syn potrzebuje planu EHC"),
    ("pl", "Szkoła nie chce zrobić corocznego przeglądu"),
    ("ro", "Fiul meu are nevoie de un plan EHC"),
    ("ro", "Școala nu vrea să facă evaluarea anuală"),
    ("pa", "ਮੇਰੇ ਪੁੱਤਰ ਨੂੰ ਈਐਚਸੀ ਪਲਾਨ ਦੀ ਲੋੜ ਹੈ"),
    ("pa", "ਸਕੂਲ ਸਾਲਾਨਾ ਸਮੀਖਿਆ ਨਹੀਂ ਕਰ ਰਿਹਾ"),
    ("ur", "میرے بیٹے کو ای ایچ سی پلان کی ضرورت ہے"),
    ("ur", "اسکول سالانہ جائزہ نہیں کر رہا"),
    ("pt", "Meu filho precisa de um plano EHC"),
    ("pt", "A escola não quer fazer a revisão anual"),
    ("es", "Mi hijo necesita un plan EHC"),
    ("es", "El colegio no quiere hacer la revisión anual"),
    ("ar", "ابني يحتاج إلى خطة التعليم والصحة والرعاية"),
    ("ar", "المدرسة لا تريد إجراء المراجعة السنوية"),
    ("bn", "আমার ছেলের একটি ইএইচসি পরিকল্পনা দরকার"),
    ("bn", "স্কুল বার্ষিক পর্যালোচনা করছে না"),
    ("gu", "મારા દીકરાને EHC પ્લાનની જરૂર છે"),
    ("gu", "શાળા વાર્ષિક સમીક્ષા કરતી નથી"),
    ("so", "Wiilkaygu wuxuu u baahan yahay qorshe EHC"),
    ("so", "Dugsigu ma samaynayo dib-u-eegista sannadlaha ah"),
    ("uk", "Моєму синові потрібен план EHC"),
    ("uk", "Школа не хоче проводити щорічний перегляд"),
]


@pytest.mark.parametrize(("language", "message", "category"), RISKY)
def test_risk_caught_in_contacts_language(language: str, message: str, category: str) -> None:
    match = find_risk(message, language)
    assert match is not None
    assert (match.language, match.category) == (language, category)


@pytest.mark.parametrize(("language", "message", "category"), RISKY)
def test_risk_caught_whatever_language_the_contact_chose(
    language: str, message: str, category: str
) -> None:
    assert find_risk(message, "en") is not None
    assert find_risk(message) is not None


@pytest.mark.parametrize(("language", "message"), INNOCENT)
def test_innocent_send_question_not_flagged_by_any_list(language: str, message: str) -> None:
    assert find_risk(message, language) is None


def test_every_language_has_risky_and_innocent_examples() -> None:
    for language in LANGUAGES:
        assert sum(1 for lang, *_ in RISKY if lang == language) >= 2
        assert sum(1 for lang, _ in INNOCENT if lang == language) >= 2


@pytest.mark.parametrize(
    "message",
    [
        "i want to ki\u200dll mys\u200belf",  # zero-width joiner / space inside words
        "\u202ekill myself\u202c",  # bidi override
        "\u200fhe said he will kill himself\u200e",  # bidi marks
        "I want to k i l l  m y s e l f",  # spaced out letters
        "he wants to h.u.r.t himself",
        "k1ll mys3lf",
        "$u1c1d@l thoughts",
        "he wants to kіll hіmsеlf",  # Cyrillic і and е
        "he was аbusеd",  # Cyrillic а and е
        "ｋｉｌｌ ｍｙｓｅｌｆ",  # fullwidth
        "kíll mysélf",  # accents added
        "KILL MY SELF",
        "self-harm",
        "selfharm",
        "sex\u00adual",  # soft hyphen
        "k\u0336i\u0336l\u0336l\u0336 m\u0336y\u0336s\u0336e\u0336l\u0336f\u0336",  # strikethrough
    ],
)
def test_obfuscated_english_is_caught(message: str) -> None:
    assert find_risk(message, "en") is not None


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("pl", "moj syn mowi ze chce sie zabic"),
        ("pl", "corka zaginela wczoraj"),
        ("ro", "tatal lui il bate in fiecare seara"),
        ("ro", "vrea sa se sinucida"),
        ("pt", "ele nao esta seguro em casa"),
        ("pt", "a minha filha fugiu de casa e nao voltou"),
        ("es", "mi hijo esta desaparecido"),
        ("uk", "Вона боiться йти додому"),  # Latin i typed in a Ukrainian word
        ("uk", "Вітчим його бʼє"),  # modifier-letter apostrophe
    ],
)
def test_diacritics_and_keyboard_variants_are_caught(language: str, message: str) -> None:
    match = find_risk(message, language)
    assert match is not None
    assert match.language == language


@pytest.mark.parametrize(
    "message",
    [
        "Please call me on 07700 900123 after 3pm",
        "My number is +44 (0)7700-900-135",
        "Email me at sam.hurst1975@example.com or s4m@example.co.uk",
        "Please reply to bea7@example.com",  # read as letters it would say "beat"
        "Our reference is EHC-2024-00517, tel:01134960000",
    ],
)
def test_numbers_and_emails_are_not_mangled_into_a_match(message: str) -> None:
    assert find_risk(message) is None


def test_pure_numbers_survive_normalisation() -> None:
    assert normalise("Call 07700 900123 or 999") == "call 07700 900123 or 999"
    assert normalise("k1ll") == "kill"


def test_real_ukrainian_keeps_its_letters() -> None:
    assert normalise("Моєму синові потрібен план") == "моєму синові потрібен план"


def test_therapist_does_not_trip_rapist_but_stems_take_suffixes() -> None:
    phrases = RiskPhrases({"en": [("abuse", "rapist"), ("abuse", "abus")]})
    assert phrases.find("the therapist was kind") is None
    assert phrases.find("she was abused") == RiskMatch("en", "abuse", "abus")
    assert phrases.find("he is abusive") == RiskMatch("en", "abuse", "abus")
    assert phrases.find("he takes a bus") is None


def test_match_reports_language_and_category() -> None:
    assert find_risk("chcę się zabić", "pl") == RiskMatch("pl", "self-harm", "się zabić")
    assert find_risk("Mae fy merch ar goll", "cy") == RiskMatch("cy", "missing", "ar goll")
    assert find_risk("he was threatened with a knife") == RiskMatch(
        "en", "violence", "threatened with a knife"
    )
    assert find_risk("hace falta cuchillo", "es-ES") == RiskMatch("es", "violence", "cuchillo")


def test_other_languages_are_checked_even_when_contact_chose_english() -> None:
    match = find_risk("Ojczym go bije", "en")
    assert match is not None
    assert match.language == "pl"


def test_find_checks_english_as_well_as_requested_languages() -> None:
    phrases = RiskPhrases.load()
    assert phrases.find("he wants to kill himself", ["pl"]) == RiskMatch(
        "en", "self-harm", "kill himself"
    )
    assert phrases.find("Ojczym go bije", ["es"]) is None
    assert phrases.find("Ojczym go bije", "pl") is not None  # a bare code is not split


def test_every_phrase_in_every_file_matches_itself_in_a_sentence() -> None:
    phrases = RiskPhrases.load()
    for language in LANGUAGES:
        for _category, phrase in phrases.phrases(language):
            match = phrases.find(f"today {phrase} again", [language])
            assert match is not None, (language, phrase)
            assert match.language == language


def test_phrase_files_are_complete_and_marked_for_review() -> None:
    sections = {"self-harm", "abuse", "violence", "missing", "unsafe"}
    phrases = RiskPhrases.load()
    for language in LANGUAGES:
        text = (DEFAULT_DIRECTORY / f"{language}.txt").read_text(encoding="utf-8")
        found = phrases.phrases(language)
        assert {category for category, _ in found} == sections, language
        low, high = (20, 40) if language == "en" else (10, 25)
        assert low <= len(found) <= high, (language, len(found))
        if language != "en":
            assert "# Reviewed by a native speaker: no" in text, language


def test_edited_phrase_file_is_picked_up(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_DIRECTORY, tmp_path, dirs_exist_ok=True)
    assert RiskPhrases.load(tmp_path).find("she hides in the shed every night") is None
    with (tmp_path / "en.txt").open("a", encoding="utf-8") as file:
        file.write("\n[hiding]\nhides in the shed  # added by the manager\n")
    match = RiskPhrases.load(tmp_path).find("She HIDES in the   shed every night")
    assert match == RiskMatch("en", "hiding", "hides in the shed")


def test_load_refuses_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        RiskPhrases.load(tmp_path)


@given(st.text())
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


# Letters, digit swaps, invisibles, accents, look-alikes, Arabic and Indic letters and marks.
TRICKY = st.sampled_from(
    list(
        "aeiouAEIOU kK1l!@$5.-'\u02bc\u200b\u200d\u202e\u00ad\ufeff"
        "\u0430\u0435\u0456\u043e\u0455\u0501\u00ec\u00e9\u0142\u0141\u00df\u0130\u03a3\u03c2"
        "\u0301\u0308\u0640\u0623\u0625\u0622\u0649\u064a\u0643\u0629\u06c1\u06be"
        "\u0a59\u0a36\u09df\uff4b\u2460\u00b2\u00bd\u0653\u0654\u093c\u0915\u0627\u0a38"
    )
)


@settings(max_examples=500)
@given(st.lists(TRICKY, max_size=30).map("".join))
def test_normalise_is_idempotent_on_tricky_characters(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
