"""Typst source -> PDF or PNG with the compiler and fonts embedded in the typst package; many
sources side by side in worker processes (`serve` is one)."""

from __future__ import annotations

import contextlib
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
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


def pdfs(
    sources: Iterable[tuple[str, str]], workers: int, done: Callable[[str, bytes], None]
) -> dict[str, bytes]:
    """Each Typst source (name, source) as PDF by its name, in order, calling `done` with each
    name and PDF as it is ready (in this thread, so it may use what came before).

    The compiler holds the interpreter's lock for much of its work, so threads gain little:
    with more than one worker the sources compile in processes of their own, each fed one
    source at a time by a thread of this process. The workers start first and the sources
    are read while they work, so making a source overlaps typesetting the ones before. A PDF
    is a function of its source alone: the bytes are the same for any number of workers.
    """
    if workers <= 1 or not sys.executable:
        out = {}
        for name, source in sources:
            out[name] = pdf(source)
            done(name, out[name])
        return out
    jobs: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
    results: queue.SimpleQueue[tuple[str, bytes | HandcalcError]] = queue.SimpleQueue()
    feeders: list[tuple[subprocess.Popen[bytes], threading.Thread]] = []
    try:
        for _ in range(workers):
            process = _start()
            feeder = threading.Thread(target=_feed, args=(process, jobs, results), daemon=True)
            feeders.append((process, feeder))
            feeder.start()
        names = []
        for name, source in sources:
            names.append(name)
            jobs.put((name, source))
        for _ in feeders:
            jobs.put(None)  # one end mark per worker
        return _collect(names, results, done)
    finally:  # on an error or Ctrl-C too: no worker outlives the command
        for _ in feeders:
            jobs.put(None)  # a feeder still waiting for a source stops
        for process, feeder in feeders:
            process.kill()
            feeder.join()
            process.wait()


def _collect(
    names: list[str],
    results: queue.SimpleQueue[tuple[str, bytes | HandcalcError]],
    done: Callable[[str, bytes], None],
) -> dict[str, bytes]:
    """The workers' PDFs in the order of `names`, or the first error one reported."""
    ready: dict[str, bytes] = {}
    while len(ready) < len(names):
        name, result = results.get()
        if isinstance(result, HandcalcError):
            raise result
        ready[name] = result
        done(name, result)
    return {name: ready[name] for name in names}


# A worker's program: the package the parent runs is found first, if not already on the path.
WORKER = (
    "import sys; sys.path[:0] = [] if sys.argv[1] in sys.path else [sys.argv[1]]; "
    "from handcalc.render.pdf import serve; serve()"
)


def _start() -> subprocess.Popen[bytes]:
    """A worker: this interpreter typesetting with this package.

    In a session of its own, so Ctrl-C at the terminal reaches only the parent, which stops
    it; a worker whose parent dies reads the end of its input and stops too."""
    root = str(Path(__file__).resolve().parents[2])
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, root],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )


def _feed(
    process: subprocess.Popen[bytes],
    jobs: queue.SimpleQueue[tuple[str, str] | None],
    results: queue.SimpleQueue[tuple[str, bytes | HandcalcError]],
) -> None:
    """Give one worker a source at a time until the end mark, each result to `results`."""
    assert process.stdin is not None and process.stdout is not None
    # Ctrl-C is the main thread's to answer: delivered here, it would cut a read short
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    name = ""
    try:
        while (job := jobs.get()) is not None:
            name, source = job
            _send(process.stdin, OK, source.encode())
            status, data = _receive(process.stdout)
            out = data if status == OK else HandcalcError(data.decode(errors="replace"))
            results.put((name, out))
    except (OSError, EOFError, ValueError):
        results.put((name, HandcalcError(f"typesetting stopped: {_ended(process)}")))
    finally:
        for pipe in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


def _ended(process: subprocess.Popen[bytes]) -> str:
    """How a worker that stopped answering ended."""
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "a worker stopped answering"
    return f"a worker ended with exit code {code}"


OK, FAILED = b"0", b"1"


def _send(stream: IO[bytes], status: bytes, data: bytes) -> None:
    stream.write(status + len(data).to_bytes(8, "big") + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> tuple[bytes, bytes]:
    head = _exactly(stream, 9)
    return head[:1], _exactly(stream, int.from_bytes(head[1:], "big"))


def _exactly(stream: IO[bytes], size: int) -> bytes:
    """`size` bytes from a pipe, which may hand them over in several reads."""
    parts, left = [], size
    while left:
        part = stream.read(left)
        if not part:
            raise EOFError
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def serve(requests: IO[bytes] | None = None, replies: IO[bytes] | None = None) -> None:
    """A worker's loop: a source in, its PDF (or the error's message) out, until the end of
    the input (standard input and output unless given).

    One compiler serves every source: what it laid out before (fonts, the preamble) it takes
    from its cache, about a tenth of the time of a paper. Its folder holds only the source."""
    import typst

    requests = requests or sys.stdin.buffer
    replies = replies or sys.stdout.buffer
    with tempfile.TemporaryDirectory() as folder:
        main = Path(folder) / "document.typ"
        main.write_text("", encoding="utf-8")
        compiler = typst.Compiler(main, root=Path(folder), ignore_system_fonts=True)
        while True:
            try:
                _, source = _receive(requests)
            except EOFError:
                return
            main.write_bytes(source)
            try:
                out = compiler.compile(format="pdf")
                assert isinstance(out, bytes)
                _send(replies, OK, out)
            except typst.TypstError as e:  # reported by the parent as its one-line error
                _send(replies, FAILED, f"typst could not compile the document: {e}".encode())
