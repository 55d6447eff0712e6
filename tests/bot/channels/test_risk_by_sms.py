"""By SMS the safety reply is plain text (no links: the phone makes numbers tappable itself),
fits in two segments, and offers the number the parent texted from as the safe number."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.core.services import Services
from storage.models import Callback, Enquiry
from tests.bot.channels.test_sms import PARENT, Texter, assert_sms_sized
from tests.fakes.twilio_api import FakeTwilio


async def test_a_worry_by_sms_gets_plain_numbers_and_the_number_offered(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw)
    replies = await parent.send("my son said he wants to kill himself")
    assert_sms_sized(replies)
    assert "call 999" in replies[0] and "NSPCC: 0808 800 5000" in replies[0]
    assert "tel:" not in "".join(replies) and "<a" not in "".join(replies)
    ask = "Can we call you on 07700 900123? Reply yes, type a safer number, or 'no'."
    assert replies[-1] == ask
    after = await parent.send("yes")
    assert after[0] == "Thank you. An officer will call you on 07700 900123."
    async with channel_services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        callback = (await session.scalars(select(Callback))).one()
    assert enquiry.callback_phone == PARENT and enquiry.urgent and callback.urgent


async def test_no_to_the_number_texted_from_leaves_no_number_shown_as_safe(
    client: httpx.AsyncClient, tw: FakeTwilio, channel_services: Services
) -> None:
    parent = Texter(client, tw)
    await parent.send("Hello")
    for answer in ("yes", "1", "2", "2", "Year 4", "2", "The school cannot meet his needs."):
        await parent.send(answer)
    await parent.send("yes")  # "Shall we call you on 07700 900123?"
    asked = await parent.send("she is not safe at home")
    assert asked[-1].startswith("Can we call you on 07700 900123?")
    after = await parent.send("no")
    assert after[0].startswith("All right, we will not call you.")
    async with channel_services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    assert enquiry.urgent and enquiry.callback_phone is None
