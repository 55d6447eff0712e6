"""Checks on the parent's typed answers: each returns the clean value or a kind re-ask."""

from __future__ import annotations

import unicodedata

import phonenumbers

from flows.engine import N_, Invalid

DESCRIPTION_LIMIT = 2000
SHORT_LIMIT = 64


def _has_words(text: str) -> bool:
    """At least one letter, and not a single key held down ("aaaaaa", "!!!!")."""
    letters = [c for c in text if unicodedata.category(c).startswith("L")]
    return bool(letters) and len({c.casefold() for c in letters}) > 1


def description(text: str) -> str | Invalid:
    value = text.strip()
    if not value:
        return Invalid(N_("Please tell us in a few words what has happened."))
    if len(value) > DESCRIPTION_LIMIT:
        return Invalid(
            N_(
                "That is a lot to read in one message. Please send a shorter summary "
                "(up to 2,000 characters); the officer will hear the rest when they call."
            )
        )
    if len(value) < 3 or not _has_words(value):
        return Invalid(
            N_("Sorry, I could not read that. Please tell us in words what has happened.")
        )
    return value


def child_age(text: str) -> str | Invalid:
    value = " ".join(text.split())
    if not value or len(value) > SHORT_LIMIT:
        return Invalid(N_("Please give an age or school year, for example 7 or Year 3."))
    if not any(c.isalnum() for c in value):
        return Invalid(N_("Please give an age or school year, for example 7 or Year 3."))
    return value


def phone(text: str, region: str = "GB") -> str | Invalid:
    """A number we can ring, stored as E.164 (+447700900123); UK numbers may be typed locally."""
    candidate = text.strip()
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return Invalid(
            N_("That does not look like a phone number. Please type it like 07700 900123.")
        )
    if not (phonenumbers.is_valid_number(number) or _uk_test_range(number)):
        return Invalid(
            N_("That does not look like a phone number. Please type it like 07700 900123.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def known_phone(raw: str) -> str | None:
    """A number a channel gave us (Twilio's From, a shared Telegram contact) as E.164, when it
    is one we could ring back. Both give international numbers; Telegram leaves off the +."""
    number = phone(raw if raw.startswith("+") else "+" + raw)
    return None if isinstance(number, Invalid) else number


def _uk_test_range(number: phonenumbers.PhoneNumber) -> bool:
    """Ofcom's drama and test ranges (07700 900xxx...) are full-length UK numbers too."""
    return (
        number.country_code == 44
        and len(str(number.national_number)) == 10
        and phonenumbers.is_possible_number(number)
    )


def show_phone(e164: str) -> str:
    """Read a number back the way people write it: national format at home, international abroad."""
    number = phonenumbers.parse(e164, None)
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 44
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
