"""The smaller sign-in findings: a real POST form, one argon2 check whatever the email, keyed
throttling per forwarded client, audited failures and refusals, audited urgent conversations."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from starlette.applications import Starlette
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.cli import main as cli
from bot.core.services import Services
from storage.models import AuditEntry, Conversation, LoginAttempt
from tests.bot.dashboard.helpers import PASSWORD, add_staff, enquire, sign_in, token

HTMX = {"HX-Request": "true"}
PROXY = "10.0.0.1"


async def attempt(client: httpx.AsyncClient, email: str, password: str, **headers: str) -> int:
    csrf = token(await client.get("/staff/login", headers=headers))
    response = await client.post(
        "/staff/login",
        data={"email": email, "password": password},
        headers={**HTMX, "X-CSRFToken": csrf, **headers},
    )
    return response.status_code


async def test_the_login_form_posts_so_a_password_never_reaches_a_url(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/staff/login")
    assert '<form method="post" action="/staff/login"' in page.text


async def test_an_unknown_email_costs_one_argon2_check_like_a_wrong_password(
    services: Services, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_staff(services, "olu@example.org")
    checks: list[str] = []
    real = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str, password: str) -> Any:
        checks.append(password)
        return real(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    assert await attempt(client, "olu@example.org", "wrong one") == 401
    assert await attempt(client, "nobody@example.org", "wrong two") == 401
    assert checks == ["wrong one", "wrong two"]  # the same work, so the same time


async def test_failed_sign_ins_and_refused_pages_are_audited(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    await attempt(client, "olu@example.org", "wrong")
    await attempt(client, "nobody@example.org", "wrong")
    await sign_in(client, "olu@example.org")
    assert (await client.get("/staff/audit")).status_code == 403  # managers only
    async with services.sessions() as session:
        rows = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    logged = [(r.actor, r.action, r.detail) for r in rows]
    assert ("olu@example.org", "failed sign-in", "wrong password") in logged
    assert ("unknown account", "failed sign-in", "unknown email") in logged
    assert ("olu@example.org", "forbidden", "/staff/audit") in logged
    assert all("nobody" not in str(entry) for entry in logged)


async def test_sign_in_attempts_are_kept_under_keyed_hashes(
    services: Services, client: httpx.AsyncClient
) -> None:
    await attempt(client, "olu@example.org", "wrong")
    async with services.sessions() as session:
        keys = set(await session.scalars(select(LoginAttempt.key)))
    plain = hashlib.sha256(b"olu@example.org").hexdigest()[:40]
    assert len(keys) == 3 and f"acct:{plain}" not in keys  # a list of emails does not undo it


async def test_behind_a_proxy_one_client_failing_does_not_lock_out_another(
    services: Services, app: Starlette
) -> None:
    await add_staff(services, "olu@example.org")
    proxied = ProxyHeadersMiddleware(app, trusted_hosts=PROXY)  # what serve installs
    transport = httpx.ASGITransport(app=proxied, client=(PROXY, 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        guesser = {"x-forwarded-for": "198.51.100.66"}
        codes = [await attempt(http, f"u{n}@example.org", "guess", **guesser) for n in range(6)]
        assert codes[-1] == 429
        http.cookies.clear()
        officer = {"x-forwarded-for": "203.0.113.10"}
        assert await attempt(http, "olu@example.org", PASSWORD, **officer) == 200


def test_serve_trusts_forwarded_headers_only_from_the_named_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "helpline.toml"  # real safety numbers: serve refuses the examples
    config.write_text(
        'children_services_phone = "0161 496 0000"\nout_of_hours_phone = "0161 496 0001"\n'
        'service_phone = "0161 496 0002"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("HELPLINE_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    seen: dict[str, Any] = {}

    def serve_on(app: object, sockets: list[socket.socket], **kwargs: Any) -> int:
        for sock in sockets:
            sock.close()
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(cli.serving, "serve_on", serve_on)
    monkeypatch.setattr(cli, "create_app", lambda settings, background, send: None)
    assert cli.main(["serve", "--port", "0", "--forwarded-allow-ips", PROXY]) == 0
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == PROXY
    assert cli.main(["serve", "--port", "0"]) == 0
    assert seen["proxy_headers"] is False  # no proxy named: X-Forwarded-For means nothing


async def test_reading_an_urgent_conversation_is_audited_against_its_enquiry(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services, description="I am scared he will kill himself")
    async with services.sessions.begin() as session:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.contact_id == enquiry.contact_id)
        )
        assert conversation is not None
        conversation.state = {**conversation.state, "urgent": True}
        conversation.enquiry_id = None  # the audit still finds the contact's enquiry
    await sign_in(client, "olu@example.org")
    page = await client.get(f"/staff/safeguarding/conversations/{conversation.id}")
    assert page.status_code == 200
    async with services.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "view urgent conversation")
        )
    assert entry is not None and entry.enquiry_id == enquiry.id
