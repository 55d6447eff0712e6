"""Build a twilio ``Client`` whose REST calls can be redirected to another base URL.

Production talks to ``https://api.twilio.com``; tests (and any on-prem relay) set
TWILIO_API_BASE_URL and pass it here. twilio 9 builds absolute ``https://<product>
.twilio.com`` URLs itself and has no base-URL option, so we plug in an HTTP client
that rewrites the scheme+host. The sync ``TwilioHttpClient`` (requests) is used on
purpose: callers run it via ``asyncio.to_thread`` and avoid aiohttp session lifecycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.core.settings import Settings

DEFAULT_BASE_URL = "https://api.twilio.com"


def is_twilio_url(url: str) -> bool:
    """True for an ``https://`` URL on twilio.com or one of its subdomains."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


def rebase_twilio_url(url: str, base_url: str) -> str:
    """Swap the ``https://*.twilio.com`` origin of ``url`` for ``base_url``.

    URLs on other hosts are returned unchanged so we never leak credentials elsewhere
    by accident. Path and query are preserved; ``base_url`` may carry a path prefix.
    """
    if not is_twilio_url(url):
        return url
    parts = urlsplit(url)
    rebased = base_url.rstrip("/") + parts.path
    if parts.query:
        rebased += "?" + parts.query
    return rebased


def signed_by_twilio(request: Request, params: Mapping[str, Any], settings: Settings) -> bool:
    """True when X-Twilio-Signature signs ``params`` for our public URL (path and query as sent).

    The URL is HELPLINE_PUBLIC_URL's, the one Twilio was given, whatever proxy sits in front.
    ``params`` may be a multi-dict (starlette's form): a key posted twice is signed with both
    values, so both must be here.
    """
    token = settings.twilio_auth_token
    signature = request.headers.get("x-twilio-signature", "")
    if not token or not signature:
        return False
    url = settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return bool(RequestValidator(token).validate(url, params, signature))


class RebasingTwilioHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio is untyped
    """``TwilioHttpClient`` that sends Twilio-bound requests to ``base_url`` instead."""

    def __init__(self, base_url: str, *, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        response: Response = super().request(
            method,
            rebase_twilio_url(url, self.base_url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        return response


def make_twilio_client(
    account_sid: str,
    auth_token: str,
    base_url: str = DEFAULT_BASE_URL,
    *,
    timeout: float | None = 30.0,
) -> Client:
    """A twilio REST ``Client`` for ``account_sid`` that talks to ``base_url``.

    ``timeout`` bounds each request (twilio's default is to wait forever, which would
    pin a worker thread if the network hangs).
    """
    http_client: TwilioHttpClient
    if base_url.rstrip("/") == DEFAULT_BASE_URL:
        http_client = TwilioHttpClient(timeout=timeout)
    else:
        http_client = RebasingTwilioHttpClient(base_url, timeout=timeout)
    # TWILIO_EDGE/TWILIO_REGION from the environment still apply: they only change the
    # *.twilio.com hostname, which the rebasing client rewrites anyway.
    return Client(account_sid, auth_token, http_client=http_client)
