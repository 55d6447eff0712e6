"""Only lost connections become 503: a real query bug still surfaces."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from bot.web.limits import BodyLimit, lost_connection


class ConnectionDoesNotExistError(Exception):
    """Shaped like asyncpg's."""


def test_connection_failures_are_recognised() -> None:
    assert lost_connection(OperationalError("SELECT 1", {}, Exception("gone")))
    assert lost_connection(InterfaceError("SELECT 1", {}, Exception("closed")))
    assert lost_connection(ConnectionRefusedError())
    assert lost_connection(DBAPIError("SELECT 1", {}, ConnectionDoesNotExistError("closed")))


def test_query_bugs_are_not_hidden() -> None:
    assert not lost_connection(IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not lost_connection(DBAPIError("SELECT", {}, ValueError("bad value")))


def test_limits_pick_the_longest_matching_prefix() -> None:
    limits = {"/chat/": 10, "/chat/big/": 100}
    guard = BodyLimit(lambda *a: None, limits, fallback=5)  # type: ignore[arg-type]
    assert guard.limit_for("/chat/messages") == 10
    assert guard.limit_for("/chat/big/x") == 100
    assert guard.limit_for("/elsewhere") == 5
