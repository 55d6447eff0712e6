"""Messages an officer may send a parent from the case, kept in every catalog so the parent
reads them in their own language; the officer sees the English beside the parent's version.

Placeholders: {service}, {phone} (the service's number), {reference}, {time} and {day}.
"""

from __future__ import annotations

from flows.engine import N_

OFFICER_MESSAGES: dict[str, str] = {
    "tried": N_(
        "{service}: we tried to call you at {time} about {reference}. We will try again on {day}."
    ),
    "ring_us": N_(
        "{service}: please ring us on {phone} about {reference}, Monday to Friday, 9am to 5pm."
    ),
    "good_time": N_(
        "{service}: when is a good time to call you about {reference}? Reply with a day and time."
    ),
    "closed": N_(
        "{service}: your case {reference} is now closed. "
        "If you need us again, reply to this message or ring {phone}."
    ),
}
