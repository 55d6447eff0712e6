"""`helpline serve`'s sockets and workers: several processes on one port (SO_REUSEPORT, the
kernel spreads the connections), each with an optional port of its own, for what must reach
that one process (its /metrics counters, its /healthz while it restarts)."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import subprocess  # nosec B404: our own serve command, as an argument list
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn

from bot.core.errors import HelplineError

log = logging.getLogger(__name__)
uvicorn_log = logging.getLogger("uvicorn.error")
RESTART_PAUSE = 1.0  # seconds before a worker that died is started again
QUICK_EXIT = 10.0  # a worker that fails sooner after its start than this never came up


def listening_socket(host: str, port: int, *, shared: bool) -> socket.socket:
    """A bound TCP socket; `shared`: other processes of this user may bind the same port
    (SO_REUSEPORT) and the kernel gives each new connection to one of those listening. It
    listens only when uvicorn has started the app: until then, connections go to the others."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HelplineError(_bind_error(host, port, exc, shared)) from None
    return sock


def _bind_error(host: str, port: int, exc: OSError, shared: bool) -> str:
    if exc.errno != errno.EADDRINUSE:
        return f"cannot listen on {host}:{port} ({exc.strerror})"
    if shared:
        return (
            f"port {port} on {host} is taken by a process that does not share it (one started "
            "without --reuse-port, or another user's): stop it or choose another --port"
        )
    return (
        f"port {port} on {host} is taken: stop the process that has it, choose another --port, "
        "or start every worker with --reuse-port to share it"
    )


def serve_on(app: Any, sockets: list[socket.socket], **options: Any) -> int:
    """Run uvicorn on sockets already bound (so a taken port is said before the app starts)."""
    config = uvicorn.Config(app, log_level="info", log_config=None, **options)
    server = _Server(config)
    server.run(sockets=sockets)
    return 0 if server.started else 3


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn says where it runs only for sockets it bound itself: say it for ours."""
        await super().startup(sockets=sockets)
        for sock in sockets if self.started and sockets else []:
            host, port = sock.getsockname()[:2]
            uvicorn_log.info("Uvicorn running on http://%s:%d (Press CTRL+C to quit)", host, port)


def worker_argv(argv: Sequence[str], own_port: int | None) -> list[str]:
    """The serve command line for one worker of `--workers N`: the same options, one worker,
    sharing the port, and its own port if asked."""
    command = [sys.executable, "-m", "bot.cli.main", "serve", "--reuse-port", *argv]
    if own_port is not None:
        command += ["--own-port", str(own_port)]
    return command


class Workers:
    """`helpline serve --workers N`: N serve processes on one port, each started again when it
    dies, all stopped by SIGTERM or SIGINT (systemd's stop, Ctrl-C)."""

    def __init__(self, commands: list[list[str]]) -> None:
        self.commands = commands
        self.running: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
        self.stopping = False

    def start(self, n: int) -> None:
        process = subprocess.Popen(self.commands[n])  # nosec B603: ours, never user text
        self.running[n] = (process, time.monotonic())
        log.info("worker %d started (pid %d)", n + 1, process.pid)

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        for process, _started in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for n in range(len(self.commands)):
            self.start(n)
        while not self.stopping:
            time.sleep(0.2)
            for n, (process, started) in list(self.running.items()):
                code = process.poll()
                if code is None or self.stopping:
                    continue
                if time.monotonic() - started < QUICK_EXIT and code == 2:
                    log.error("worker %d could not start (exit %d): stopping", n + 1, code)
                    self.stop(signal.SIGTERM, None)
                    return 2
                log.warning("worker %d exited (%d): starting it again", n + 1, code)
                time.sleep(RESTART_PAUSE)
                self.start(n)
        for process, _started in self.running.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        return 0
