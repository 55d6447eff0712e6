"""The report counts with the dashboard's category lists; only groups and topics are its own."""

from __future__ import annotations

from dataclasses import replace

from bot.core.settings import Settings
from bot.reports.categories import TOPIC_CATEGORY, Categories


def test_the_lists_are_the_dashboards_and_reports_keeps_groups_and_topics() -> None:
    settings = replace(
        Settings(),
        case_categories=("SEN", "Knitting"),
        action_categories=("NCI", "Crochet"),
        extra={
            "reports": {
                "cases": ["Ignored"],
                "nci_cases": ["Knitting"],
                "topics": {"tribunal": "SEN"},
            }
        },
    )
    names = Categories.from_settings(settings)
    assert names.cases == ("SEN", "Knitting")
    assert names.actions == ("NCI", "Crochet")
    assert names.case_name("knitting") == "Knitting"
    assert names.case_group("Knitting") == "NCI"
    assert names.topic_case("tribunal") == "SEN"
    assert names.topic_case("bullying") == TOPIC_CATEGORY["bullying"]
    assert names.topic_case(None) is None


def test_default_settings_give_the_default_categories() -> None:
    assert Categories.from_settings(Settings()) == Categories()
