"""The fake Telegram Bot API of tests/fakes as a process: `uvicorn bench.fake_telegram:app`.

`helpline serve` sends its Telegram replies through the outbox to TELEGRAM_API_BASE_URL; in the
benchmark that is this fake (on the load generator's core), so nothing reaches the internet.
"""

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.fakes.telegram_api import FakeTelegram

fake = FakeTelegram()


async def ready(request: Request) -> PlainTextResponse:
    return PlainTextResponse("fake telegram")


fake.app.router.routes.append(Route("/", ready))
app = fake.app
