"""`luzhi serve` with several workers: one listening socket per worker.

uvicorn's workers share one listening socket, and whichever wakes first takes every
connection waiting: a client that opens many at once (a browser's six, a proxy's pool, a
load test's 32) lands mostly on one worker, which then serves them at half the pace of the
other (21 and 11 of 32 was usual), and that worker's queue sets the tail of the response
times. Here each worker listens on a socket of its own bound to the same address with
SO_REUSEPORT, and the kernel spreads new connections over them by address hash. The rest is
uvicorn's supervisor as it is (health checks, restarts); a replacement worker listens on
every socket, so no socket is ever left without a worker.
"""

from __future__ import annotations

import logging
import socket
import sys

from uvicorn import Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("uvicorn.error")


class _OwnSockets(Multiprocess):
    def init_processes(self) -> None:
        for sock in self.sockets:
            process = Process(self.config, [sock])
            process.start()
            self.processes.append(process)


def spreads(config: Config) -> bool:
    """Whether the workers can have a socket each: several of them on a fixed TCP port."""
    return config.workers > 1 and bool(config.port) and config.uds is None and config.fd is None


def run(config: Config) -> None:
    """Serve with config.workers processes, each on its own socket (see spreads())."""
    # SO_REUSEPORT would also let a second server started by mistake on the same port share
    # its connections silently: an ordinary bind first fails as uvicorn's own would
    _bind(config, reuse_port=False).close()
    sockets = [_bind(config, reuse_port=True) for _ in range(config.workers)]
    scheme = "https" if config.is_ssl else "http"
    host = f"[{config.host}]" if ":" in config.host else config.host
    log.info("Uvicorn running on %s://%s:%d, %d workers, a socket each", scheme, host, config.port, len(sockets))
    try:
        _OwnSockets(config, sockets).run()
    finally:
        for sock in sockets:
            sock.close()


def _bind(config: Config, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        log.error(exc)
        sys.exit(3)  # uvicorn's STARTUP_FAILURE: the supervisor would fail the same way
    sock.set_inheritable(True)
    return sock
