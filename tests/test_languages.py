"""The whole intake in each of the 13 languages, through the real router and store, plus the
things a parent types in their own script: yes/no words, native digits, localized dates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from babel.dates import get_day_names, get_month_names
from sqlalchemy import select

from bot.conversation.router import Inbound
from bot.core.i18n import Catalogs, babel_locale, due_parts
from bot.core.services import Services
from bot.core.settings import DEFAULT_LANGUAGES, Settings
from bot.domain.enquiries import CONFIRMATION_IN_WINDOW
from bot.web.app import create_app
from flows.answer_words import NO_WORDS, YES_WORDS
from flows.engine import Engine
from flows.intake import CONFIRMATION, INTAKE
from storage.models import Enquiry
from tests.conftest import test_settings

# A description in each language, kept exactly as written.
DESCRIPTIONS = {
    "en": "The school says they cannot meet his needs.",
    "cy": "Mae'r ysgol yn dweud na allan nhw ddiwallu ei anghenion.",
    "pl": "Szkoła mówi, że nie może zaspokoić jego potrzeb.",
    "ro": "Școala spune că nu îi poate satisface nevoile.",
    "pa": "ਸਕੂਲ ਕਹਿੰਦਾ ਹੈ ਕਿ ਉਹ ਉਸ ਦੀਆਂ ਲੋੜਾਂ ਪੂਰੀਆਂ ਨਹੀਂ ਕਰ ਸਕਦੇ।",
    "ur": "اسکول کہتا ہے کہ وہ اس کی ضروریات پوری نہیں کر سکتے۔",
    "pt": "A escola diz que não consegue responder às necessidades dele.",
    "es": "La escuela dice que no puede atender sus necesidades.",
    "ar": "المدرسة تقول إنها لا تستطيع تلبية احتياجاته.",
    "bn": "স্কুল বলছে তারা ওর চাহিদা মেটাতে পারবে না।",
    "gu": "સ્કૂલ કહે છે કે તેઓ તેની જરૂરિયાતો પૂરી કરી શકતા નથી.",
    "so": "Dugsigu wuxuu leeyahay ma buuxin karno baahiyihiisa.",
    "uk": "Школа каже, що не може задовольнити його потреби.",
}
# Choice numbers as a parent might type them: Arabic-Indic, Eastern Arabic (Urdu), Bengali ...
DIGITS = {"ar": "٠١٢٣٤٥٦٧٨٩", "ur": "۰۱۲۳۴۵۶۷۸۹", "bn": "০১২৩৪৫৬৭৮৯", "gu": "૦૧૨૩૪૫૬૭૮૯"}
DIGITS["pa"] = "੦੧੨੩੪੫੬੭੮੯"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(db_url, languages=DEFAULT_LANGUAGES)


def number(language: str, n: int) -> str:
    return "".join(DIGITS[language][int(d)] for d in str(n)) if language in DIGITS else str(n)


@pytest.mark.parametrize("language", DEFAULT_LANGUAGES)
async def test_the_whole_intake_in_each_language(services: Services, language: str) -> None:
    _ = services.catalogs.gettext(language)
    address = uuid.uuid4().hex

    async def say(text: str) -> list[str]:
        inbound = Inbound("console", address, uuid.uuid4().hex, text, services.now())
        return [reply.text for reply in await services.router.deliver(inbound)]

    menu = await say("hello")
    assert menu == ["Which language would you like? Reply with a number."]
    position = list(DEFAULT_LANGUAGES).index(language) + 1
    welcome = await say(number(language, position))
    assert welcome[-1] == _(INTAKE.step("consent").prompt_for({})).format(
        service=services.settings.service_name
    )
    yes, no = sorted(YES_WORDS.get(language, {"yes"}))[0], _("No")
    answers = [
        _("Yes"),  # consent, the catalog's own word
        number(language, 1),  # parent
        number(language, 2),  # EHC
        number(language, 2),  # assessment requested
        "7",
        number(language, 2),  # primary
        DESCRIPTIONS[language],
        "07700 900123",
        number(language, 1),  # morning
        yes,  # voicemail: an everyday variant
        no,  # interpreter
        number(language, 1),  # share
        number(language, 5),  # website
    ]
    replies: list[str] = []
    for text in answers:
        replies = await say(text)
        assert replies, text
    assert replies[-1].startswith(_("Please check your answers:"))
    assert f"{_('Interpreter')}: {_('No')}" in replies[-1]
    confirmation = (await say(number(language, 1)))[-1]
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    assert enquiry.language == language
    assert enquiry.description == DESCRIPTIONS[language]
    assert enquiry.voicemail_ok is True and enquiry.interpreter is False
    assert enquiry.topic == "ehc" and enquiry.heard_from == "website"
    parts = due_parts(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), language, "Europe/London")
    template = _(CONFIRMATION_IN_WINDOW["morning"])  # the parent chose the morning
    assert confirmation == template.format(reference=enquiry.reference, **parts)
    assert enquiry.reference in confirmation and "10:00" in confirmation
    locale = babel_locale(language)
    assert get_day_names("wide", locale=locale)[1].casefold() in confirmation.casefold()


@pytest.mark.parametrize(
    ("language", "weekday", "month"),
    [
        ("cy", "dydd Mawrth", "Tachwedd"),
        ("pl", "wtorek", "listopada"),
        ("ur", "منگل", "نومبر"),
        ("es", "martes", "de noviembre"),
        ("pt", "terça-feira", "de novembro"),
        ("ar", "الثلاثاء", "نوفمبر"),
    ],
)
def test_the_confirmation_date_reads_naturally(language: str, weekday: str, month: str) -> None:
    due = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    parts = due_parts(due, language, "Europe/London")
    assert weekday in parts["date"] and month in parts["date"]
    assert (
        month in get_month_names("wide", locale=babel_locale(language)).values() or "de " in month
    )
    for template in (CONFIRMATION, *CONFIRMATION_IN_WINDOW.values()):
        text = Catalogs([language]).gettext(language)(template)
        text = text.format(reference="PP-7KX3QD", **parts)
        assert "PP-7KX3QD" in text and "10:00" in text and parts["date"] in text
        assert "Tuesday" not in text and "November" not in text
        assert "morning" not in text and "afternoon" not in text


def engine(language: str) -> Engine:
    return Engine(
        INTAKE,
        Catalogs([language]).gettext(language),
        {"en": "English"},
        {"known_phone": "07700 900123"},
        language=language,
    )


@pytest.mark.parametrize("language", [code for code in DEFAULT_LANGUAGES if code != "en"])
def test_yes_and_no_are_understood_in_each_language(language: str) -> None:
    run, step = engine(language), INTAKE.step("interpreter")
    for word in {run._("Yes"), "1", "yes", *YES_WORDS[language]}:
        assert run.parse(step, word) is True, word
        assert run.parse(step, word.upper() + ".") is True, word
    for word in {run._("No"), "2", "no", *NO_WORDS[language]}:
        assert run.parse(step, word) is False, word


def test_every_translated_command_word_works() -> None:
    for language in DEFAULT_LANGUAGES:
        run = engine(language)
        for command in ("back", "change", "restart", "help", "stop", "language"):
            assert run.command(run._(command)) == command, (language, command)
            assert run.command(command) == command  # English always works too


def test_yes_words_never_mean_no_in_another_language() -> None:
    every_yes = set().union(*YES_WORDS.values())
    every_no = set().union(*NO_WORDS.values())
    assert every_yes.isdisjoint(every_no)


@pytest.mark.parametrize("language", sorted(DIGITS))
def test_native_digits_choose(language: str) -> None:
    run, step = engine(language), INTAKE.step("topic")
    assert run.parse(step, number(language, 2)) == "ehc"
    assert run.parse(step, number(language, 9)) == "other"
    assert run.parse(INTAKE.step("voicemail_ok"), number(language, 2)) is False
    assert run.parse(step, run._("Bullying")) == "bullying"


def test_odd_digits_get_a_kind_reask_not_a_crash() -> None:
    run, step = engine("en"), INTAKE.step("topic")
    for text in ("²", "١٠", "0", "99"):
        assert not isinstance(run.parse(step, text), str), text


@pytest.mark.parametrize("language", ["ur", "ar"])
async def test_urdu_and_arabic_read_right_to_left_in_the_web_chat(
    services: Services, language: str
) -> None:
    app = create_app(services.settings, services=services, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        await http.get("/chat")

        async def say(text: str) -> list[dict[str, object]]:
            response = await http.post(
                "/chat/messages", json={"id": uuid.uuid4().hex, "text": text}
            )
            assert response.status_code == 200
            return list(response.json()["replies"])

        menu = await say("")
        assert menu[0]["dir"] == "ltr"
        chosen = await say(str(list(DEFAULT_LANGUAGES).index(language) + 1))
        assert chosen[-1]["dir"] == "rtl" and chosen[-1]["lang"] == language
        typed = DESCRIPTIONS[language]
        await say(typed)  # not a yes/no: a kind re-ask, still right to left
        history = (await http.get("/chat/history")).json()
    assert history["dir"] == "rtl" and history["lang"] == language
    assert any(line["direction"] == "in" and line["text"] == typed for line in history["lines"])
    translate = Catalogs([language]).gettext(language)
    assert history["choices"] == [translate("Yes"), translate("No")]
    # The page's own words follow the conversation's language too.
    assert history["page"]["send"] == translate("Send") != "Send"
    assert history["page"]["message"] == translate("Your message") != "Your message"
