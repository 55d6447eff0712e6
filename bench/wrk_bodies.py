"""Precomputed requests for bench/wrk/replay.lua: one line each, signatures included.

Line format: content-type TAB header-name TAB header-value TAB body. Twilio's signature is
HMAC-SHA1 over HELPLINE_PUBLIC_URL + path and the sorted form parameters (base64); wrk's LuaJIT
has no HMAC, so it is computed here with twilio's own RequestValidator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bench.load import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, SERVICE_NUMBER

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "PUBLIC_URL", "SERVICE_NUMBER", "signed_sms", "sms_lines"]

FORM = "application/x-www-form-urlencoded"
TELEGRAM_SECRET = "bench-telegram-webhook-secret-0123456789"
TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_validator = RequestValidator(AUTH_TOKEN)


def sender(block: int, n: int) -> str:
    """A UK mobile number of its own for parent `n` of a block (one block per request set)."""
    return f"+447{block:03d}{n:06d}"


def sms_form(number: str, body: str, sid: str) -> dict[str, str]:
    """What Twilio posts for an inbound SMS."""
    return {
        "ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
        "SmsStatus": "received", "Body": body, "FromCountry": "GB", "To": SERVICE_NUMBER,
        "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": number,
        "ApiVersion": "2010-04-01",
    }  # fmt: skip


def signed_sms(number: str, body: str, sid: str) -> tuple[str, dict[str, str], bytes]:
    """(signature, form, encoded body) for POST /twilio/sms from `number`."""
    form = sms_form(number, body, sid)
    signature = _validator.compute_signature(PUBLIC_URL + "/twilio/sms", form)
    return signature, form, urlencode(form).encode()


def sms_lines(block: int, count: int, text: str, step: int = 0) -> Iterable[str]:
    """`text` from parents 0..count-1 of `block`, each with a unique MessageSid."""
    for n in range(count):
        sid = f"SM{block:03d}{step:03d}{n:08d}" + "0" * 18
        signature, _form, body = signed_sms(sender(block, n), text, sid)
        yield f"{FORM}\tX-Twilio-Signature\t{signature}\t{body.decode()}"


def telegram_update(update_id: int, chat_id: int, text: str) -> dict[str, object]:
    """A private text message as Telegram posts it to the webhook."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"}
    chat = {"id": chat_id, "first_name": "Sam", "type": "private"}
    message = {"message_id": 1, "from": user, "chat": chat, "date": int(time.time())}
    return {"update_id": update_id, "message": {**message, "text": text}}


def telegram_lines(block: int, count: int, text: str) -> Iterable[str]:
    """First messages from new chats: unique update_id and chat id per request."""
    for n in range(count):
        update_id = chat_id = block * 10_000_000 + n
        body = json.dumps(telegram_update(update_id, chat_id, text), separators=(",", ":"))
        yield f"application/json\t{TELEGRAM_HEADER}\t{TELEGRAM_SECRET}\t{body}"


def write(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
