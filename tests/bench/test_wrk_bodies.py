"""The wrk suite's precomputed requests are what Twilio and Telegram would send (no timing)."""

import json
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from bench import wrk_bodies
from bench.wrk_profile import parse, statement_report


def fields(line: str) -> tuple[str, str, str, str]:
    ctype, name, value, body = line.split("\t")
    return ctype, name, value, body


def test_sms_lines_are_signed_for_the_public_url_and_unique() -> None:
    lines = list(wrk_bodies.sms_lines(520, 50, "hello", step=3))
    validator = RequestValidator(wrk_bodies.AUTH_TOKEN)
    sids, senders = set(), set()
    for line in lines:
        ctype, name, signature, body = fields(line)
        form = dict(parse_qsl(body))
        assert ctype == "application/x-www-form-urlencoded"
        assert name == "X-Twilio-Signature"
        assert validator.validate(wrk_bodies.PUBLIC_URL + "/twilio/sms", form, signature)
        assert len(form["MessageSid"]) == 34 and form["MessageSid"].startswith("SM")
        sids.add(form["MessageSid"])
        senders.add(form["From"])
    assert len(sids) == len(senders) == 50


def test_steps_of_one_parent_share_the_number_not_the_sid() -> None:
    (first,) = wrk_bodies.sms_lines(760, 1, "hello", step=0)
    (fourth,) = wrk_bodies.sms_lines(760, 1, "2", step=3)
    one, two = dict(parse_qsl(fields(first)[3])), dict(parse_qsl(fields(fourth)[3]))
    assert one["From"] == two["From"] and one["MessageSid"] != two["MessageSid"]


def test_telegram_lines_carry_the_secret_and_new_ids() -> None:
    lines = list(wrk_bodies.telegram_lines(520, 20, "hello"))
    updates = [json.loads(fields(line)[3]) for line in lines]
    assert {fields(line)[2] for line in lines} == {wrk_bodies.TELEGRAM_SECRET}
    assert len({u["update_id"] for u in updates}) == 20
    assert len({u["message"]["chat"]["id"] for u in updates}) == 20
    assert all("\n" not in line for line in lines)


def test_statement_report_divides_the_difference_by_requests() -> None:
    before = {"counters": {"commit": 2}, "statements": {"SELECT 1": [1, 0.001]}}
    after = {"counters": {"commit": 12}, "statements": {"SELECT 1": [11, 0.011]}}
    report = statement_report("x", before, after, 10)
    assert "statements 1.0 / request" in report and "COMMIT 1.00" in report


def test_parse_reads_collapsed_stacks() -> None:
    assert parse(["a (x.py:1);b (y.py:2) 7", "junk"]) == [(["a (x.py:1)", "b (y.py:2)"], 7)]
