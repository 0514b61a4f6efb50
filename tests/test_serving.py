"""`luzhi serve --workers N` (server.serving): a listening socket per worker, so that the
kernel spreads connections over the workers, and still no second server on a port in use.

No database of the suite's: these tests run once, not per backend.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx

from server.settings import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> int:
    """How many sockets listen on 127.0.0.1:port (Linux's socket table: state 0A)."""
    address = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        return sum(1 for line in table if line.split()[1:2] == [address] and line.split()[3] == "0A")


def test_each_worker_listens_on_its_own_socket_and_a_second_server_is_refused(tmp_path):
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LUZHI_")},
        "LUZHI_VAR_DIR": str(tmp_path),
        "LUZHI_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "LUZHI_SECRET_KEY": "serving-test-key",
        "LUZHI_SCHEDULER": "0",
        "LUZHI_PDF_WORKERS": "1",
        "LUZHI_GUARD_WORKERS": "1",
    }
    command = [sys.executable, "-m", "server.cli", "serve", "--workers", "2", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while _listening(port) < 2 or not _answers(port):
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the workers did not start within 60 s"
            time.sleep(0.2)
        assert _listening(port) == 2  # one per worker, not one shared
        second = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0 and "Address already in use" in second.stderr
        assert _listening(port) == 2
        # new connections, each its own: all answered, whichever worker the kernel picks
        assert all(_answers(port) for _ in range(20))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _listening(port) == 0


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
