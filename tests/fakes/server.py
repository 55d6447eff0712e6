"""Run an ASGI app on a real loopback socket so real HTTP clients can reach it.

The fakes are exercised through the providers' own client libraries (httpx inside
python-telegram-bot, requests inside twilio), so they must be served over genuine
TCP rather than via an in-process transport.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn


class LiveServer:
    """Serve ``app`` with uvicorn on ``127.0.0.1`` from a background thread.

    The listening socket is bound (port 0) before the thread starts, so ``.url`` is known
    up front and there is no port race. Usable as ``with`` or ``async with``; the async
    form moves the blocking start/stop off the event loop.
    """

    def __init__(self, app: Any, *, startup_timeout: float = 10.0) -> None:
        self.app = app
        self.startup_timeout = startup_timeout
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LiveServer is not running")
        return self._port

    @property
    def url(self) -> str:
        """Base URL without trailing slash, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        """Start serving and block until the socket accepts connections."""
        if self._thread is not None:
            raise RuntimeError("LiveServer already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._sock = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="auto",
            loop="asyncio",
            http="h11",
            ws="none",  # avoid importing websockets (deprecation warnings are errors here)
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"LiveServer:{self._port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._cleanup()
                raise RuntimeError("LiveServer thread exited during startup")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("LiveServer did not start in time")
            time.sleep(0.005)
        # ``started`` is set once listening; confirm with a real connect to be certain.
        with socket.create_connection(("127.0.0.1", self._port), timeout=self.startup_timeout):
            pass
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit, join the thread and close the socket. Idempotent."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            if self._thread.is_alive() and self._server is not None:
                self._server.force_exit = True
                self._thread.join(timeout=5)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)
