"""Typst source -> PDF or PNG with the compiler and fonts embedded in the typst package; many
sources side by side in worker processes (`python -m handcalc.render.pdf` is one)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from handcalc.errors import HandcalcError


def _compile(source: str, png_ppi: int | None) -> bytes | list[bytes]:
    """Compile with no system fonts, no packages and an empty root folder: the same bytes on
    every machine, and no file is readable from the document."""
    import typst

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        main = root / "document.typ"
        main.write_text(source, encoding="utf-8")
        try:
            if png_ppi is not None:
                pages: bytes | list[bytes] = typst.compile(
                    main, root=root, format="png", ppi=png_ppi, ignore_system_fonts=True
                )
                return pages
            out: bytes = typst.compile(main, root=root, format="pdf", ignore_system_fonts=True)
            return out
        except typst.TypstError as e:  # a bug here, never the user's text (it is escaped)
            raise HandcalcError(f"typst could not compile the document: {e}") from None


def pdf(source: str) -> bytes:
    out = _compile(source, None)
    assert isinstance(out, bytes)
    return out


def png_pages(source: str, ppi: int = 110) -> list[bytes]:
    out = _compile(source, ppi)
    return out if isinstance(out, list) else [out]


def pdfs(sources: Mapping[str, str], workers: int, done: Callable[[], None]) -> dict[str, bytes]:
    """Each Typst source as PDF, by the same names, calling `done` as each is ready.

    The compiler holds the interpreter's lock for much of its work, so threads gain little:
    with more than one worker the sources compile in processes of their own, each fed one
    source at a time by a thread of this process. A PDF is a function of its source alone,
    so the bytes are the same for any number of workers.
    """
    if workers <= 1:
        out = {}
        for name, source in sources.items():
            out[name] = pdf(source)
            done()
        return out
    jobs: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
    for item in sources.items():
        jobs.put(item)
    results: queue.SimpleQueue[tuple[str, bytes | HandcalcError]] = queue.SimpleQueue()
    processes = [_start() for _ in range(workers)]
    try:
        for process in processes:
            jobs.put(None)  # one end mark per worker
            threading.Thread(target=_feed, args=(process, jobs, results), daemon=True).start()
        ready: dict[str, bytes] = {}
        while len(ready) < len(sources):
            name, result = results.get()
            if isinstance(result, HandcalcError):
                raise result
            ready[name] = result
            done()
    finally:  # on an error or Ctrl-C too: no worker outlives the command
        for process in processes:
            process.kill()
            process.wait()
    return {name: ready[name] for name in sources}


def _start() -> subprocess.Popen[bytes]:
    """A worker: this interpreter running this module, finding the same package as this one.

    Its own session, so Ctrl-C at the terminal reaches only the parent, which stops it."""
    package = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package, os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [sys.executable, "-m", "handcalc.render.pdf"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )


def _feed(
    process: subprocess.Popen[bytes],
    jobs: queue.SimpleQueue[tuple[str, str] | None],
    results: queue.SimpleQueue[tuple[str, bytes | HandcalcError]],
) -> None:
    """Give one worker a source at a time until the end mark, each result to `results`."""
    assert process.stdin is not None and process.stdout is not None
    name = ""
    try:
        while (job := jobs.get()) is not None:
            name, source = job
            _send(process.stdin, OK, source.encode())
            status, data = _receive(process.stdout)
            out = data if status == OK else HandcalcError(data.decode(errors="replace"))
            results.put((name, out))
    except (OSError, EOFError):
        code = process.poll()
        results.put((name, HandcalcError(f"typesetting stopped: a worker ended (exit {code})")))


OK, FAILED = b"0", b"1"


def _send(stream: IO[bytes], status: bytes, data: bytes) -> None:
    stream.write(status + len(data).to_bytes(8, "big") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> tuple[bytes, bytes]:
    head = stream.read(9)
    if len(head) < 9:
        raise EOFError
    data = stream.read(int.from_bytes(head[1:], "big"))
    if len(data) < int.from_bytes(head[1:], "big"):
        raise EOFError
    return head[:1], data


def _serve(requests: IO[bytes], replies: IO[bytes]) -> None:
    """A worker's loop: a source in, its PDF (or the error's message) out, until the end."""
    while True:
        try:
            _, source = _receive(requests)
        except EOFError:
            return
        try:
            _send(replies, OK, pdf(source.decode()))
        except Exception as e:  # reported by the parent as its one-line error
            _send(replies, FAILED, str(e).encode())


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
