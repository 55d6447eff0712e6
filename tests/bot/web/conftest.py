"""The app wired to the fake Telegram and Twilio servers, as the channels' tests have it."""

from tests.bot.channels.conftest import (  # noqa: F401  (fixtures shared with the channels)
    app,
    channel_services,
    channel_settings,
    client,
    messaging,
    tg,
    tg_server,
    tw,
    tw_server,
)
