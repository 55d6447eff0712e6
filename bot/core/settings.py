"""Settings, read once at start from the environment (secrets) and an optional TOML file.

A bad value stops the service with one readable line, rather than a surprise at 9pm.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from bot.core.clock import parse_closures
from bot.core.i18n import LANGUAGE_NAMES

DEFAULT_LANGUAGES = tuple(LANGUAGE_NAMES)  # every language the service ships
# The annual report's "Cases breakdown by issue": the full list officers recategorise with.
CASE_CATEGORIES = (
    "Attendance",
    "Behaviour",
    "Bullying",
    "Bullying – Racial",
    "Business",
    "Choice Advice",
    "Curriculum/Exams",
    "Education at Home",
    "Exclusions FT",
    "Exclusions P",
    "Information Request",
    "Mediation",
    "Medical",
    "Other",
    "PPS Business",
    "PPS Facilities",
    "PPS Staff Training",
    "School Policy",
    "School Staff",
    "SEN",
    "SEN Provision/Funding",
    "Training/Event/Meeting",
    "Transport",
)
# The annual report's "Actions breakdown by issue": what casework is counted by.
ACTION_CATEGORIES = (
    "Befriender",
    "Bullying",
    "Choice Advice",
    "Education at Home",
    "Exclusions",
    "NCI",
    "Outreach",
    "PPS",
    "SEN",
)
CLOSE_OUTCOMES = (
    "Information given",
    "Advice given",
    "Casework completed",
    "Referred to another service",
    "No contact made",
    "Parent withdrew",
)


# The shipped examples: a parent must never be told to ring these. `serve` refuses to start
# while the safety numbers are still examples; `helpline doctor` lists all of them.
EXAMPLE_VALUES = {
    "children_services_phone": "01234 000000",
    "out_of_hours_phone": "01234 000001",
    "service_phone": "01234 567890",
}
SAFETY_NUMBERS = ("children_services_phone", "out_of_hours_phone")


def still_examples(settings: Settings, names: tuple[str, ...] = tuple(EXAMPLE_VALUES)) -> list[str]:
    """The settings among `names` still at their shipped example (or blank): each needs a
    real value before parents are given it."""
    digits = {name: "".join(c for c in EXAMPLE_VALUES[name] if c.isdigit()) for name in names}
    found = []
    for name in names:
        value = "".join(c for c in str(getattr(settings, name)) if c.isdigit())
        if not value or value == digits[name]:
            found.append(name)
    return found


def trial_banner(settings: Settings) -> str | None:
    """The warning every page shows while the safety numbers are examples (`make run` only)."""
    names = still_examples(settings, SAFETY_NUMBERS)
    if not names:
        return None
    return (
        "NOT FOR REAL USE: the safety numbers given to parents are the shipped examples "
        f"({', '.join(names)}). Set them in helpline.toml; `helpline doctor` lists what else "
        "needs a real value."
    )


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything the service is configured with; built by `load_settings`."""

    database_url: str = "sqlite+aiosqlite:///helpline.db"
    public_url: str = "http://127.0.0.1:8080"
    secret_key: str = ""
    encryption_keys: tuple[str, ...] = ()
    lookup_key: str = ""
    service_name: str = "SEND Information, Advice and Support Service"
    service_phone: str = "01234 567890"
    office_number: str = ""
    reference_prefix: str = "PP-"
    nation: str = "ENG"
    timezone: str = "Europe/London"
    opens: time = time(9, 0)
    closes: time = time(17, 0)
    working_day_hours: float = 8.0
    response_working_days: int = 1
    closures: tuple[date, ...] = ()
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    idle_hours: int = 24
    children_services_phone: str = "01234 000000"
    out_of_hours_phone: str = "01234 000001"
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_phone_number: str = ""
    twilio_whatsapp_number: str = ""
    twilio_whatsapp_template_sid: str = ""  # an approved ContentSid with one variable, {{1}}
    twilio_api_base_url: str = "https://api.twilio.com"
    smtp_url: str = ""
    mail_from: str = "helpline@localhost"
    case_categories: tuple[str, ...] = CASE_CATEGORIES
    action_categories: tuple[str, ...] = ACTION_CATEGORIES
    close_outcomes: tuple[str, ...] = CLOSE_OUTCOMES
    reminder_working_hours: float = 2.0
    nudge_after_attempts: int = 3
    metrics_token: str = ""  # /metrics answers 404 until one is set
    log_format: str = "text"  # or "json": one JSON object a line
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


# Names of environment variables, not secrets (bandit B105 reads "TOKEN" in them).
ENVIRONMENT = {
    "HELPLINE_DATABASE_URL": "database_url",
    "HELPLINE_PUBLIC_URL": "public_url",
    "HELPLINE_SECRET_KEY": "secret_key",  # nosec B105
    "HELPLINE_ENCRYPTION_KEYS": "encryption_keys",
    "HELPLINE_LOOKUP_KEY": "lookup_key",
    "TELEGRAM_BOT_TOKEN": "telegram_bot_token",  # nosec B105
    "TELEGRAM_WEBHOOK_SECRET": "telegram_webhook_secret",  # nosec B105
    "TELEGRAM_API_BASE_URL": "telegram_api_base_url",
    "TWILIO_ACCOUNT_SID": "twilio_account_sid",
    "TWILIO_AUTH_TOKEN": "twilio_auth_token",  # nosec B105
    "TWILIO_PHONE_NUMBER": "twilio_phone_number",
    "TWILIO_WHATSAPP_NUMBER": "twilio_whatsapp_number",
    "TWILIO_WHATSAPP_TEMPLATE_SID": "twilio_whatsapp_template_sid",
    "TWILIO_API_BASE_URL": "twilio_api_base_url",
    "HELPLINE_SMTP_URL": "smtp_url",
    "HELPLINE_MAIL_FROM": "mail_from",
    "HELPLINE_METRICS_TOKEN": "metrics_token",
    "HELPLINE_LOG_FORMAT": "log_format",
}
SECRETS = {
    "secret_key",
    "encryption_keys",
    "lookup_key",
    "telegram_bot_token",
    "telegram_webhook_secret",
    "twilio_auth_token",
    "metrics_token",
}


def database_url(raw: str) -> str:
    """Map the URLs people write to the async drivers we run on."""
    url = raw.strip()
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    for plain in ("postgresql:", "postgres:", "postgresql+psycopg2:", "postgresql+psycopg:"):
        if url.startswith(plain):
            return "postgresql+asyncpg:" + url[len(plain) :]
    if url.startswith(("sqlite+aiosqlite:", "postgresql+asyncpg:")):
        return url
    raise SettingsError(
        "HELPLINE_DATABASE_URL must be a sqlite:/// or postgresql:// URL, "
        f"not {url.split(':', 1)[0]!r}"
    )


def _time(name: str, value: Any) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise SettingsError(f"setting {name}: {value!r} is not a time such as 09:00") from None


def _closures(values: Any) -> tuple[date, ...]:

    try:
        return tuple(parse_closures([str(v) for v in values]))
    except ValueError as exc:
        raise SettingsError(f"setting closures: {exc}") from None


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"HELPLINE_CONFIG: no such file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"HELPLINE_CONFIG {path}: {exc}") from None
    known = set(Settings.__dataclass_fields__) - SECRETS - {"extra"}
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        if key in known:
            values[key] = value
        elif isinstance(value, dict):
            extra[key] = value
        else:
            raise SettingsError(f"HELPLINE_CONFIG {path}: unknown setting {key!r}")
    values["extra"] = extra
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file named by HELPLINE_CONFIG, then the environment, and check every value."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if env.get("HELPLINE_CONFIG"):
        values.update(_from_toml(Path(env["HELPLINE_CONFIG"])))
    for variable, name in ENVIRONMENT.items():
        if env.get(variable):
            values[name] = env[variable]
    values["database_url"] = database_url(values.get("database_url", Settings.database_url))
    for name in ("opens", "closes"):
        if name in values:
            values[name] = _time(name, values[name])
    if "encryption_keys" in values:
        keys = str(values["encryption_keys"]).split(",")
        values["encryption_keys"] = tuple(k.strip() for k in keys if k.strip())
    if "closures" in values:
        values["closures"] = _closures(values["closures"])
    if "languages" in values:
        languages = tuple(str(code) for code in values["languages"])
        values["languages"] = ("en", *(c for c in languages if c != "en"))
    for name in ("case_categories", "action_categories", "close_outcomes"):
        if name in values:
            values[name] = tuple(str(item) for item in values[name])
    numbers: dict[str, type[float] | type[int]] = {
        "working_day_hours": float,
        "reminder_working_hours": float,
        "response_working_days": int,
        "idle_hours": int,
        "nudge_after_attempts": int,
    }
    for name, kind in numbers.items():
        if name in values:
            try:
                values[name] = kind(values[name])
            except (TypeError, ValueError):
                raise SettingsError(f"setting {name}: {values[name]!r} is not a number") from None
    if values.get("log_format", "text") not in {"text", "json"}:
        raise SettingsError(f"HELPLINE_LOG_FORMAT: {values['log_format']!r} is not text or json")
    if values.get("nation", "ENG") not in {"ENG", "WLS", "SCT", "NIR"}:
        raise SettingsError(f"setting nation: {values['nation']!r} is not ENG, WLS, SCT or NIR")
    settings = Settings(**values)
    if settings.opens >= settings.closes:
        raise SettingsError("settings opens/closes: the office must open before it closes")
    return settings
