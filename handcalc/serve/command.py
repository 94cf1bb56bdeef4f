"""`handcalc serve`: the options, the socket bound before the server starts, the URL printed.

Starlette and uvicorn are the optional extra `handcalc[serve]`: imported only when the command runs,
so the core install stays light and says how to get them.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from handcalc.errors import ConfigError, HandcalcError
from handcalc.text import clean

REVEALS = ("never", "wrong", "always")
INSTALL = "handcalc serve needs the serve extra: pip install 'handcalc[serve]'"

PaperArg = Annotated[
    Path | None,
    typer.Argument(
        metavar="[CONFIG | EXAM_DIR]",
        help="A config file, or a folder `handcalc exam` wrote (the default network without one).",
        show_default=False,
    ),
]
HostOption = Annotated[str, typer.Option("--host", help="The address to listen on.")]
PortOption = Annotated[
    int, typer.Option("--port", help="The port to listen on (0: any free port).", min=0, max=65535)
]
RevealOption = Annotated[
    str,
    typer.Option(
        "--reveal",
        help="When the page may show the key: never (verdicts only), wrong (an entry's key once "
        "it is marked wrong) or always (self-study).",
    ),
]


def serve(
    paper: PaperArg = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    reveal: RevealOption = "never",
) -> None:
    """Serve the worksheet as a web page that grades each step as the student fills it in."""
    if reveal not in REVEALS:
        raise ConfigError(f"--reveal: unknown value {reveal!r} (one of {', '.join(REVEALS)})")
    try:
        import uvicorn

        from handcalc.serve import app, sheet
    except ImportError:
        raise HandcalcError(INSTALL) from None
    sheets = sheet.load(paper)
    listening = _bind(host, port)
    url = _url(host, listening.getsockname()[1])
    print(clean(f"handcalc serve: open {url} in a browser (Ctrl+C stops)"), file=sys.stderr)
    sys.stderr.flush()
    config = uvicorn.Config(
        app.create(sheets, reveal),  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run(sockets=[listening])


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, so that a port in use is one line of error before anything starts."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(info[0], socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(info[4])
    except OSError as e:
        raise ConfigError(
            f"--host/--port: cannot listen on {host}:{port} ({e.strerror or e})"
        ) from None
    return sock


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"
