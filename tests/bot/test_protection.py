"""Subject access and erasure: one command finds everything; erase leaves nothing behind."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.cli.main import main
from bot.cli.protection import erase, export
from bot.core.errors import HelplineError
from bot.core.services import Services
from bot.domain.protection import find_person
from storage.crypto import lookup_hash
from storage.models import (
    AuditEntry,
    Base,
    CallAttempt,
    Callback,
    CaseAction,
    CaseNote,
    Enquiry,
    Recording,
    SurveyResponse,
)
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_LOOKUP_KEY
from tests.parent import STEP_ANSWERS, Parent

PHONE = "+447700900123"
DESCRIPTION = STEP_ANSWERS["description"]
NOTE = "Spoke to mum about the EHC plan for Jamie"


async def a_whole_case(
    services: Services, address: str = PHONE, description: str = DESCRIPTION
) -> Enquiry:
    """A parent by SMS with every kind of record: notes, actions, survey, recording, risk."""
    parent = Parent(services, channel="sms", address=address)
    await parent.complete(description=description, phone=address)
    await parent.say("I worry he will kill himself")
    now = services.now()
    async with services.sessions.begin() as session:
        enquiry = (
            await session.scalars(select(Enquiry).where(Enquiry.contact_id.is_not(None)))
        ).all()[-1]
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry.id))
        assert callback is not None
        session.add_all(
            [
                CaseNote(enquiry_id=enquiry.id, text=NOTE, at=now),
                CaseAction(enquiry_id=enquiry.id, category="EHC", note=NOTE, at=now),
                CallAttempt(callback_id=callback.id, outcome="spoke", note=NOTE, at=now),
                SurveyResponse(enquiry_id=enquiry.id, rating=5, helped=NOTE, received_at=now),
                Recording(
                    enquiry_id=enquiry.id,
                    call_sid="CA" + enquiry.reference[3:],
                    recording_sid="RE" + enquiry.reference[3:],
                    created_at=now,
                ),
                AuditEntry(
                    at=now, actor="officer@example.org", action="view", enquiry_id=enquiry.id
                ),
            ]
        )
    return enquiry


def args(**values: Any) -> argparse.Namespace:
    base = {"phone": None, "reference": None, "format": "json", "output": None, "yes": False}
    return argparse.Namespace(**{**base, **values})


async def everything(services: Services) -> str:
    """Every row of every table, decrypted through the models' own column types."""
    dump: list[str] = []
    async with services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                dump.append(f"{table.name}: {row}")
            raw = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            dump.extend(f"{table.name} raw: {row}" for row in raw.all())
    return "\n".join(dump)


async def test_export_by_phone_holds_every_kind_of_record(
    services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enquiry = await a_whole_case(services)
    output = tmp_path / "sar.json"
    assert await export(services, args(phone="07700 900123", output=str(output))) == 0
    document = json.loads(output.read_text())
    records = document["records"]
    for section in (
        "contacts",
        "enquiries",
        "callbacks",
        "call attempts",
        "transcript",
        "case notes",
        "case actions",
        "survey responses",
        "recordings",
        "risk matches",
        "messages sent",
        "messages received",
        "audit entries",
    ):
        assert records[section], section
    assert records["contacts"][0]["address"] == PHONE
    assert records["enquiries"][0]["description"] == DESCRIPTION
    assert records["enquiries"][0]["reference"] == enquiry.reference
    assert records["audit entries"][0]["action"] == "view"
    assert "address_hash" not in records["contacts"][0]
    assert oct(output.stat().st_mode & 0o777) == "0o600"
    async with services.sessions() as session:
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "subject_access_export")
            )
        ).one()
    assert audit.enquiry_id == enquiry.id and PHONE not in (audit.detail or "")


async def test_export_by_reference_as_a_readable_html_page(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    enquiry = await a_whole_case(services)
    assert await export(services, args(reference=enquiry.reference.lower(), format="html")) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>")
    assert "<h2>Enquiries (1)</h2>" in page and enquiry.reference in page
    assert "The school says they cannot meet his needs." in page
    assert "<h2>Case notes (1)</h2>" in page


async def test_erase_leaves_nothing_behind_in_any_table(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    enquiry = await a_whole_case(services)
    other = await a_whole_case(services, "+447700900999", "Another family's words entirely.")
    typed: list[str] = []

    def ask(prompt: str) -> str:
        typed.append(prompt)
        return enquiry.reference

    assert await erase(services, args(reference=enquiry.reference), ask=ask) == 0
    assert typed and "This will permanently remove" in capsys.readouterr().out
    dump = await everything(services)
    for needle in (PHONE, "7700900123", enquiry.reference, lookup_hash(PHONE), DESCRIPTION):
        assert needle not in dump, needle
    assert other.reference in dump and "Another family's words entirely." in dump
    async with services.sessions() as session:
        enquiries = (await session.scalars(select(Enquiry))).all()
        erasure = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "erasure"))
        ).one()
        orphaned = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "view"))
        ).all()
    assert [e.reference for e in enquiries] == [other.reference]
    assert erasure.enquiry_id is None and enquiry.reference not in (erasure.detail or "")
    # The record of who looked stays, without a link to the erased case.
    assert sorted(str(a.enquiry_id) for a in orphaned) == sorted(["None", str(other.id)])


async def test_erase_by_phone_with_yes_and_nothing_of_theirs_survives(services: Services) -> None:
    enquiry = await a_whole_case(services)
    assert await erase(services, args(phone="07700 900123", yes=True)) == 0
    dump = await everything(services)
    for needle in (PHONE, enquiry.reference, lookup_hash(PHONE), NOTE, DESCRIPTION):
        assert needle not in dump, needle


async def test_a_wrong_confirmation_erases_nothing(services: Services) -> None:
    enquiry = await a_whole_case(services)
    with pytest.raises(HelplineError, match="did not match"):
        await erase(services, args(reference=enquiry.reference), ask=lambda _p: "PP-WRONG1")
    assert enquiry.reference in await everything(services)


async def test_legal_hold_blocks_erasure_with_a_readable_error(services: Services) -> None:
    enquiry = await a_whole_case(services)
    async with services.sessions.begin() as session:
        held = await session.get(Enquiry, enquiry.id)
        assert held is not None
        held.legal_hold = True
    with pytest.raises(HelplineError, match="legal hold"):
        await erase(services, args(phone=PHONE, yes=True))
    assert NOTE in await everything(services)


def test_the_commands_from_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "helpline.toml"
    config.write_text('languages = ["en"]\n[retention]\nclosed_years = 7\n')
    monkeypatch.setenv("HELPLINE_CONFIG", str(config))
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("HELPLINE_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)
    monkeypatch.setenv("HELPLINE_LOOKUP_KEY", TEST_LOOKUP_KEY)
    assert main(["db", "upgrade"]) == 0
    assert main(["export", "--reference", "PP-222222"]) == 2
    assert "no enquiry has the reference PP-222222" in capsys.readouterr().err
    assert main(["export", "--phone", "not a number"]) == 2
    assert main(["export", "--phone", "07700 900123"]) == 0
    assert json.loads(capsys.readouterr().out)["records"]["enquiries"] == []
    assert main(["erase", "--phone", "07700 900123", "--yes"]) == 0
    assert main(["purge", "--dry-run"]) == 0
    assert "would remove 0 inbox messages" in capsys.readouterr().out
    assert main(["keys", "rotate"]) == 0


async def test_a_whatsapp_parent_is_found_by_their_number(services: Services) -> None:
    """WhatsApp contacts are stored under the bare number (sms.py strips ``whatsapp:``)."""
    parent = Parent(services, channel="whatsapp", address="+447700900444")
    await parent.complete(phone="07700 900555")
    async with services.sessions() as session:
        person = await find_person(session, phone="+447700900444")
    assert len(person.contact_ids) == 1 and len(person.enquiry_ids) == 1
