"""Voicemails played to signed-in staff through the app: never a public link to the provider.

The app fetches the recording from Twilio with the account's credentials (only ever sent to
Twilio or its configured stand-in: bot.channels.twilio.voice.fetch_recording) and passes it on.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.twilio.voice import RecordingUnavailable, fetch_recording
from bot.domain import audit
from bot.web.dashboard.base import Dashboard
from storage.models import Recording, Staff


def routes(board: Dashboard) -> list[Route]:
    @board.guarded()
    async def play(request: Request, staff: Staff, session: AsyncSession) -> Response:
        try:
            recording = await session.get(Recording, int(request.path_params["recording_id"]))
        except ValueError:
            recording = None
        if recording is None:
            return Response("This recording is not available.", status_code=404)
        try:
            audio = await fetch_recording(board.services, recording)
        except RecordingUnavailable:
            return Response("The recording could not be fetched.", status_code=502)
        audit.record(
            session, staff, audit.PLAY_RECORDING, board.now(), enquiry_id=recording.enquiry_id
        )
        headers = {"Cache-Control": "no-store", "Content-Disposition": "inline"}
        return Response(audio, media_type="audio/mpeg", headers=headers)

    return [Route("/staff/recordings/{recording_id}", play)]
