"""`cnncalc report SPEC --watch`: rebuild the page whenever the spec changes and let the open page reload.

A small HTTP server on 127.0.0.1 serves the current page at `/` and its version at
`/__cnncalc/version`; the page asks for the version twice a second and reloads when it changed.
The spec (and a `--compare` spec) is checked for changes by its size and modification time every
0.3 s. A spec with errors gives a page listing the located errors. With `-o`, the file is rewritten
too (atomically). Ctrl-C (or SIGTERM) stops the server and exits 0.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..memory import MemoryConfig

POLL = 0.3  # seconds between two looks at the spec files


class _State:
    """The page being served and its version (a counter that every rebuild bumps)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version = 0
        self.html = b""
        self.token = "0"

    def get(self) -> tuple[bytes, str]:
        with self.lock:
            return self.html, self.token


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def build(file: str, compare: str | None, overrides: dict[str, Any], convention: str | None,
          memory: MemoryConfig, token: str) -> tuple[str, list[str]]:
    """(the page, its diagnostics as `file:line:col: ...` lines): the report, or the page of the errors."""
    from ..analysis import analyse
    from ..errors import SpecError
    from ..importers import load_model
    from . import error_html, read_source, report_html

    try:
        a = analyse(load_model(file, overrides), convention=convention)
        other = None
        if compare:
            try:
                b = analyse(load_model(compare, overrides), convention=convention)
                other = (b, read_source(compare, b))
            except SpecError as exc:
                return (error_html(exc.diagnostics, compare, read_source(compare), token),
                        [d.format() for d in exc.diagnostics])
        return report_html(a, memory, read_source(file, a), other, token), [d.format() for d in a.warnings]
    except SpecError as exc:
        return error_html(exc.diagnostics, file, read_source(file), token), [d.format() for d in exc.diagnostics]


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "cnncalc-watch"

        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            page, token = state.get()
            path = self.path.split("?", 1)[0]
            if path == "/__cnncalc/version":
                self._send(200, token.encode("ascii"), "text/plain; charset=utf-8")
            elif path in ("/", "/index.html"):
                self._send(200, page, "text/html; charset=utf-8")
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the http.server API)
            pass  # no access log on the terminal

    return Handler


def serve(file: str, output: str | None, compare: str | None, overrides: dict[str, Any], convention: str | None,
          memory: MemoryConfig, port: int = 0) -> int:
    """Serve until Ctrl-C; the exit status (0, or 1 when the port cannot be had or the output not written)."""
    from . import write_atomic

    state = _State()
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    except OSError as exc:
        click.echo(f"error: cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", err=True)
        return 1
    server.daemon_threads = True
    stop = threading.Event()

    def rebuild() -> bool:
        token = f"{state.version + 1}-{int(time.time() * 1000)}"
        html, lines = build(file, compare, overrides, convention, memory, token)
        with state.lock:
            state.version += 1
            state.token = token
            state.html = html.encode("utf-8")
        for line in lines:
            click.echo(line, err=True)
        if output:
            try:
                write_atomic(output, html)
            except OSError as exc:
                click.echo(f"{output}: error: cannot write: {exc.strerror or exc}", err=True)
                return False
        return True

    if not rebuild():
        server.server_close()
        return 1
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    bound = server.server_address[1]
    click.echo(f"serving http://127.0.0.1:{bound}/ — open it in a browser; it reloads when {file} changes"
               + (f" (also written to {output})" if output else "") + "; Ctrl-C stops", err=True)

    def on_term(signum: int, frame: Any) -> None:
        stop.set()

    # Ctrl-C and SIGTERM end the loop below (set explicitly: a shell starts background jobs with SIGINT ignored)
    previous = {sig: signal.signal(sig, on_term) for sig in (signal.SIGINT, signal.SIGTERM)}
    watched = [file] + ([compare] if compare else [])
    stamps = [_stamp(p) for p in watched]
    try:
        while not stop.wait(POLL):
            now = [_stamp(p) for p in watched]
            if now != stamps:
                stamps = now
                time.sleep(0.05)  # an editor may write the file in two steps
                stamps = [_stamp(p) for p in watched]
                rebuild()
                click.echo(f"rebuilt at {time.strftime('%H:%M:%S')}", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
    click.echo("stopped", err=True)
    sys.stdout.flush()
    return 0
