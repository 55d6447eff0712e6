"""The retention schedule runs every night from the scheduler, not only by hand."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.core.services import Services
from bot.jobs.scheduler import retention_job, schedule
from storage.models import Conversation
from tests.conftest import FakeClock
from tests.parent import Parent


async def test_retention_is_a_nightly_job(services: Services) -> None:
    jobs = {name: trigger for name, _, trigger in schedule(services)}
    trigger = jobs["retention"]
    fields = {field.name: str(field) for field in trigger.fields}
    assert fields["hour"] == "2" and fields["minute"] == "15" and fields["day_of_week"] == "*"


async def test_the_nightly_job_removes_an_old_unfinished_draft(
    services: Services, clock: FakeClock
) -> None:
    parent = Parent(services, channel="webchat")
    await parent.say("")
    await parent.say("yes")
    clock.advance(days=31)
    await retention_job(services, clock())
    async with services.sessions() as session:
        left = await session.scalar(select(func.count()).select_from(Conversation))
    assert left == 0
