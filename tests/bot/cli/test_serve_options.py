"""`helpline serve --workers N` gives each worker the options as typed: `--no-sender` only when
asked (the scheduler then sends), never implied by `--no-scheduler`."""

from __future__ import annotations

from bot.cli.main import parser, worker_options


def _options(*argv: str) -> list[str]:
    return worker_options(parser().parse_args(["serve", "--workers", "2", *argv]))


def test_no_sender_is_passed_to_every_worker_when_asked() -> None:
    assert "--no-sender" in _options("--no-scheduler", "--no-sender")


def test_no_scheduler_alone_leaves_the_workers_sending() -> None:
    options = _options("--no-scheduler")
    assert "--no-scheduler" in options and "--no-sender" not in options
    assert "--no-sender" not in _options()
