"""The annual report's categories, and how the bot's own words map into them.

The seed report counts cases by the service's full category list ("Cases breakdown by issue") and
casework by a shorter list ("Actions breakdown by issue"). Officers recategorise each enquiry with
the first list; an enquiry nobody recategorised falls back to its bot topic through TOPIC_CATEGORY.

SEN / NCI / other (the report's "Special Educational Needs" and "Non-Curriculum Issues" sections)
reproduce the seed's own 2010-11 totals exactly. NCI, 654 cases: Attendance, Behaviour, Bullying,
Bullying – Racial, Choice Advice, Exclusions FT and P, School Policy (the issues its NCI section
names, admissions being Choice Advice). SEN, 593 cases: SEN, SEN Provision/Funding, Mediation,
Medical, Curriculum/Exams, School Staff, Education at Home: of the 34 sets of the categories left
that hold SEN and SEN Provision/Funding and make 593, the only one with none of the service's own
business, general Information Requests or "Other" in it, i.e. about a child alone. "Other",
277 cases, is the service's own business (Business, PPS Business, PPS Facilities, PPS Staff
Training, Training/Event/Meeting), general Information Requests, Transport and Other.
Actions: "SEN" is 4311 (the section says 4313) and NCI, Bullying, Exclusions, Choice Advice make
3811 (the section says 3807); no other grouping of the actions table comes closer.

The case and action lists themselves are the dashboard's (``settings.case_categories`` /
``settings.action_categories``), so officers and the report use one list. Only the SEN / NCI
groups and the topic fallback can be replaced, in the TOML file's ``[reports]`` table
(``sen_cases``, ``nci_cases``, ``sen_actions``, ``nci_actions``, ``topics``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.settings import ACTION_CATEGORIES, CASE_CATEGORIES, Settings

# The SEN / NCI groups of the seed's annual-report categories (the lists are bot.core.settings's).
SEN_CASES = (
    "SEN",
    "SEN Provision/Funding",
    "Mediation",
    "Medical",
    "Curriculum/Exams",
    "School Staff",
    "Education at Home",
)
NCI_CASES = (
    "Attendance",
    "Behaviour",
    "Bullying",
    "Bullying – Racial",
    "Choice Advice",
    "Exclusions FT",
    "Exclusions P",
    "School Policy",
)
SEN_ACTIONS = ("SEN",)
NCI_ACTIONS = ("NCI", "Bullying", "Exclusions", "Choice Advice")

# The bot's topics (flows/intake.py TOPICS) in the report's words, for enquiries not recategorised.
TOPIC_CATEGORY = {
    "sen_support": "SEN",
    "ehc": "SEN",
    "tribunal": "Mediation",
    "exclusion": "Exclusions FT",
    "bullying": "Bullying",
    "admissions": "Choice Advice",
    "home_education": "Education at Home",
    "attendance_transport": "Attendance",
    "other": "Other",
}
UNCATEGORISED = "Other"

# flows/intake.py HEARD_FROM in words (the English text the parent chose).
HEARD_FROM_LABELS = {
    "school": "School or college",
    "council": "The council",
    "health": "Health visitor, doctor or therapist",
    "family_friend": "Another parent, family or friend",
    "website": "Website or internet search",
    "social_media": "Social media",
    "leaflet": "Leaflet or poster",
    "used_before": "Used the service before",
    "other": "Somewhere else",
}
NOT_RECORDED = "Not recorded"


def key(name: str) -> str:
    """Compare names loosely: "SEN Provision/Funding", "sen_provision_funding" are the same."""
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


GROUPS = ("sen_cases", "nci_cases", "sen_actions", "nci_actions")


@dataclass(frozen=True)
class Categories:
    """The category lists a report uses: the dashboard's lists, the groups and topic fallback."""

    cases: tuple[str, ...] = CASE_CATEGORIES
    actions: tuple[str, ...] = ACTION_CATEGORIES
    sen_cases: tuple[str, ...] = SEN_CASES
    nci_cases: tuple[str, ...] = NCI_CASES
    sen_actions: tuple[str, ...] = SEN_ACTIONS
    nci_actions: tuple[str, ...] = NCI_ACTIONS
    topics: Mapping[str, str] = field(default_factory=lambda: dict(TOPIC_CATEGORY))

    @classmethod
    def from_settings(cls, settings: Settings) -> Categories:
        """The dashboard's case and action lists; groups and topics from ``[reports]``."""
        table: Mapping[str, Any] = settings.extra.get("reports", {})
        given: dict[str, Any] = {n: tuple(str(v) for v in table[n]) for n in GROUPS if n in table}
        if "topics" in table:
            given["topics"] = {
                **TOPIC_CATEGORY,
                **{str(k): str(v) for k, v in table["topics"].items()},
            }
        return cls(cases=settings.case_categories, actions=settings.action_categories, **given)

    def topic_case(self, topic: str | None) -> str | None:
        """The case category an enquiry's bot topic falls back to (None for an unknown topic)."""
        return self.topics.get(topic or "")

    def case_name(self, raw: str | None) -> str:
        return _canonical(raw, self.cases)

    def action_name(self, raw: str | None) -> str:
        return _canonical(raw, self.actions)

    def case_group(self, name: str) -> str:
        return _group(name, self.sen_cases, self.nci_cases)

    def action_group(self, name: str) -> str:
        return _group(name, self.sen_actions, self.nci_actions)

    def lookup_case(self, raw: str) -> str | None:
        """The listed case category `raw` names, or None (for validating imports)."""
        return _lookup(raw, self.cases)

    def lookup_action(self, raw: str) -> str | None:
        return _lookup(raw, self.actions)


def _lookup(raw: str, names: Iterable[str]) -> str | None:
    wanted = key(raw)
    return next((name for name in names if key(name) == wanted), None)


def _canonical(raw: str | None, names: Iterable[str]) -> str:
    """A listed name when `raw` is one (loosely), else `raw` as written, else "Other"."""
    if not raw or not raw.strip():
        return UNCATEGORISED
    return _lookup(raw, names) or raw.strip()


def _group(name: str, sen: Iterable[str], nci: Iterable[str]) -> str:
    wanted = key(name)
    if any(key(n) == wanted for n in sen):
        return "SEN"
    if any(key(n) == wanted for n in nci):
        return "NCI"
    return "Other"


def heard_from_name(raw: str | None) -> str:
    """The bot's slug in words; an imported free-text answer as written."""
    if not raw or not raw.strip():
        return NOT_RECORDED
    wanted = key(raw)
    for slug, label in HEARD_FROM_LABELS.items():
        if wanted in (key(slug), key(label)):
            return label
    return raw.strip()
