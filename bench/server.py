"""Gunicorn on a free port of 127.0.0.1, always stopped afterwards."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.client import BenchError

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WORKERS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Gunicorn:
    """``with Gunicorn("app:create_app()", env, log) as server:`` serves on ``server.port``.

    Same settings for the app and the ceiling: 2 sync workers, bound to 127.0.0.1 only.
    Gunicorn runs in its own session, so a Ctrl-C reaches only us; ``stop()`` (always run on
    the way out) sends SIGINT (quick shutdown) to the master, then SIGKILL to whatever is left of its group.
    """

    def __init__(self, target: str, env: dict[str, str], log_path: Path, start_timeout: float = 60.0) -> None:
        self.target, self.env, self.log_path = target, env, log_path
        self.start_timeout = start_timeout
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync",
                   "--bind", f"{HOST}:{self.port}", "--chdir", str(ROOT), "--log-level", "warning",
                   "--error-logfile", "-", self.target]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn ({self.target}) exited with code {self.process.returncode} "
                                 f"before serving:\n{self.log_tail()}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
                connection.request("GET", "/")
                connection.getresponse().read()
                connection.close()
                return
            except OSError:
                time.sleep(0.2)
        raise BenchError(f"gunicorn ({self.target}) did not answer on {HOST}:{self.port} within "
                         f"{self.start_timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)  # gunicorn: quick shutdown
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            try:  # the group is the one gunicorn started (start_new_session): its master and workers
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.wait()
            self._log.close()
