"""Listening sockets with errors a user can act on."""

from __future__ import annotations

import errno
import socket

from ivr.errors import StartupError


def listen_error(what: str, host: str, port: int, setting: str, err: OSError) -> StartupError:
    if err.errno == errno.EADDRINUSE:
        fix = f"stop the process using it or set {setting} to a free port"
        return StartupError(f"cannot listen for {what} on {host}:{port}: port in use; {fix}")
    reason = err.strerror or str(err)
    return StartupError(f"cannot listen for {what} on {host}:{port}: {reason}; check {setting}")


def bind_tcp(what: str, host: str, port: int, setting: str) -> socket.socket:
    """Bind a listening TCP socket now, so a busy port is reported before anything starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as err:
        sock.close()
        raise listen_error(what, host, port, setting, err) from None
    sock.setblocking(False)
    return sock
