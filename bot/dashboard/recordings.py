"""Voicemails played to signed-in staff through the app: never a public link to the provider.

The app fetches the recording from Twilio with the account's credentials and streams it on;
it only ever sends those credentials to the configured Twilio API host.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bot import audit
from bot.dashboard.base import Dashboard
from storage.models import Recording, Staff


def media_url(recording: Recording, api_base: str) -> str | None:
    """The recording's MP3 on the configured API host, or None for any other host."""
    if not recording.url:
        return None
    url, allowed = urlsplit(recording.url), urlsplit(api_base)
    if (url.scheme, url.netloc) != (allowed.scheme, allowed.netloc):
        return None
    return recording.url if recording.url.endswith((".mp3", ".wav")) else recording.url + ".mp3"


def routes(board: Dashboard) -> list[Route]:
    settings = board.settings

    @board.guarded()
    async def play(request: Request, staff: Staff, session: AsyncSession) -> Response:
        try:
            recording = await session.get(Recording, int(request.path_params["recording_id"]))
        except ValueError:
            recording = None
        url = media_url(recording, settings.twilio_api_base_url) if recording else None
        if recording is None or url is None or not settings.twilio_enabled:
            return Response("This recording is not available.", status_code=404)
        audit.record(
            session, staff, audit.PLAY_RECORDING, board.now(), enquiry_id=recording.enquiry_id
        )
        client = httpx.AsyncClient(
            auth=(settings.twilio_account_sid, settings.twilio_auth_token), timeout=30
        )
        try:
            upstream = await client.send(client.build_request("GET", url), stream=True)
        except httpx.HTTPError:
            await client.aclose()
            return Response("The recording could not be fetched.", status_code=502)
        if upstream.status_code != 200:
            await upstream.aclose()
            await client.aclose()
            return Response("The recording could not be fetched.", status_code=502)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_bytes():
                    yield chunk
            finally:
                await upstream.aclose()
                await client.aclose()

        media_type = "audio/wav" if url.endswith(".wav") else "audio/mpeg"
        return StreamingResponse(body(), media_type=media_type)

    return [Route("/staff/recordings/{recording_id}", play)]
