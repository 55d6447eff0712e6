"""What the out-of-hours phone line says, as catalog msgids, so every prompt can be translated.

Each key is also the file name of the recorded prompt (static/voice/<lang>/<key>.mp3) for a
language Twilio has no voice for.
"""

from __future__ import annotations

from flows.engine import N_

PROMPTS = {
    "danger": N_("If a child is in danger now, hang up and call 999."),
    "language_option": N_("For {name}, press {digit}."),
    "more_languages": N_("For more languages, press 9."),
    "notice": N_(
        "Welcome to {service}. Our advice is free, confidential and impartial. We keep what you "
        "tell us private, unless a child may be at risk."
    ),
    "consent_number": N_(
        "Press 1 if we should call you back on the number you are calling from. "
        "Press 2 to key in another number."
    ),
    "key_number": N_("Please key in the number we should call you on, then press the hash key."),
    "read_back": N_("You keyed {digits}."),
    "confirm_number": N_("If that is right, press 1. To key it in again, press 2."),
    "bad_number": N_("Sorry, that is not a phone number we can call."),
    "topic_menu": N_("What is your call about?"),
    "topic_option": N_("For {topic}, press {digit}."),
    "not_understood": N_("Sorry, I did not get that."),
    "record": N_(
        "Please tell us your name and what has happened, after the tone. "
        "Press the hash key when you have finished."
    ),
    "thanks": N_(
        "Thank you. An officer will call you back by {time} on {date}. "
        "Your reference is {reference}. Goodbye."
    ),
    "no_number": N_(
        "We could not take a number to call you back. Please call us again on {phone} when we "
        "are open. Goodbye."
    ),
    "goodbye": N_("Thank you for calling. Goodbye."),
}
