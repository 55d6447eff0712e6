"""Everything an officer needs on one page, so the parent is never asked twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import text_direction
from bot.domain.casework import OUTCOMES
from bot.web.dashboard.base import Dashboard
from flows.engine import Step
from flows.intake import INTAKE
from flows.validators import show_phone
from storage.models import (
    CallAttempt,
    CaseAction,
    CaseNote,
    Contact,
    Enquiry,
    Recording,
    RiskMatch,
    Staff,
    SurveyResponse,
    TranscriptLine,
)


def _display(step: Step, value: Any) -> str:
    """An answer in English words, as the officer reads it."""
    if step.kind == "yesno":
        return "Yes" if value else "No"
    for choice in step.choices:
        if choice.value == value:
            return choice.label
    if step.key == "phone" and isinstance(value, str) and value.startswith("+"):
        return show_phone(value)
    return str(value)


def answers(enquiry: Enquiry) -> list[tuple[str, str, bool]]:
    """(question, answer, is the parent's own words) for every answer given."""
    given = enquiry.answers or {}
    rows = []
    for step in INTAKE.steps:
        # The description is shown at the top of the page, beside the actions.
        if step.key in given and step.key not in ("consent", "description"):
            label = step.summary or step.key
            rows.append((label, _display(step, given[step.key]), step.kind == "text"))
    return rows


def in_words(enquiry: Enquiry) -> dict[str, str]:
    """Each answer by its step key, for the who / what / when at the top of the page."""
    given = enquiry.answers or {}
    return {step.key: _display(step, given[step.key]) for step in INTAKE.steps if step.key in given}


async def case_file(session: AsyncSession, board: Dashboard, enquiry: Enquiry) -> dict[str, Any]:
    await session.refresh(enquiry, ["callback"])
    callback = enquiry.callback
    staff = {s.id: s for s in (await session.scalars(select(Staff).order_by(Staff.name))).all()}

    async def rows(model: Any, *order: Any) -> list[Any]:
        statement = select(model).where(model.enquiry_id == enquiry.id).order_by(*order)
        return list((await session.scalars(statement)).all())

    attempts = []
    if callback is not None:
        statement = select(CallAttempt).where(CallAttempt.callback_id == callback.id)
        attempts = list((await session.scalars(statement.order_by(CallAttempt.at))).all())
    return {
        "title": enquiry.reference,
        "enquiry": enquiry,
        "callback": callback,
        "assigned": staff.get(callback.assigned_to) if callback and callback.assigned_to else None,
        "answers": answers(enquiry),
        "said": in_words(enquiry),
        "direction": text_direction(enquiry.language),
        "phone": show_phone(enquiry.callback_phone) if enquiry.callback_phone else None,
        "transcript": await rows(TranscriptLine, TranscriptLine.at, TranscriptLine.id),
        "recordings": await rows(Recording, Recording.created_at),
        "risks": await rows(RiskMatch, RiskMatch.at),
        "attempts": attempts,
        "actions": await rows(CaseAction, CaseAction.at),
        "notes": await rows(CaseNote, CaseNote.at),
        "surveys": await rows(SurveyResponse, SurveyResponse.received_at),
        "staff": staff,
        "active_staff": [s for s in staff.values() if s.active],
        "outcomes": OUTCOMES,
        "action_categories": board.settings.action_categories,
        "case_categories": board.settings.case_categories,
        "close_outcomes": board.settings.close_outcomes,
        "now": board.now(),
        "contact": await session.get(Contact, enquiry.contact_id) if enquiry.contact_id else None,
    }
