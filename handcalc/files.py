"""Atomic, no-clobber file writes: a reader sees the old file or the whole new one, never half.

What a name may stand for: nothing yet (a new file); a regular file, or a symbolic link to one,
replaced only with --force (through the link: the link stays and points at the new file); a
character device such as /dev/null, or a named pipe (FIFO) that a reader holds open, such as
/dev/stdout in a pipeline, written into as `cp` and `curl -o` do and never replaced. A pipe with no
reader is refused rather than waited on. A folder, a socket or a block device is refused.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from handcalc.errors import OutputError

KINDS = {stat.S_IFDIR: "a directory", stat.S_IFSOCK: "a socket", stat.S_IFBLK: "a block device"}
EXPECTED = "expected a file name, a character device such as /dev/null, or a pipe"


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def cannot(path: Path, error: OSError) -> OutputError:
    """An OSError as the one-line message of the file it was about."""
    return OutputError(f"{path}: cannot be written ({error.strerror or error})")


def write_atomic(path: Path, data: str | bytes | Iterable[str], force: bool = False) -> None:
    """Write `data` to `path`; an existing file is replaced only with `force`. Text given in
    pieces is written as they come, never held whole."""
    raw = _encoded(data)
    kind = _kind(path)
    if kind == "stream":
        _write_stream(path, raw)
        return
    if kind == "file" and not force:
        raise OutputError(f"{path}: already exists (use --force to overwrite)")
    target = Path(os.path.realpath(path)) if kind == "file" else path
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: folder {folder} does not exist")
    try:
        _publish(folder, target, raw, force)
    except OSError as e:
        raise cannot(path, e) from None


def _encoded(data: str | bytes | Iterable[str]) -> Iterator[bytes]:
    if isinstance(data, bytes):
        yield data
    elif isinstance(data, str):
        yield data.encode("utf-8")
    else:
        for piece in data:
            yield piece.encode("utf-8")


def _kind(path: Path) -> str | None:
    """None (nothing there), "file" or "stream" (a character device or a pipe); anything else
    is refused here."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise OutputError(f"{path}: is a symbolic link to nothing ({EXPECTED})") from None
        return None
    except OSError as e:
        raise cannot(path, e) from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    what = KINDS.get(stat.S_IFMT(mode), "not a regular file")
    raise OutputError(f"{path}: is {what} ({EXPECTED})")


def _write_stream(path: Path, raw: Iterable[bytes]) -> None:
    """Write into a character device or a pipe. It is opened without waiting, so a pipe with no
    reader is an error rather than a hang, and checked again once open."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as e:
        if e.errno == errno.ENXIO:
            raise OutputError(f"{path}: is a named pipe (FIFO) with no reader") from None
        raise cannot(path, e) from None
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
            raise OutputError(f"{path}: changed while it was opened ({EXPECTED})")
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        for piece in raw:
            view = memoryview(piece)
            while view:
                view = view[os.write(fd, view) :]
    except BrokenPipeError:  # the reader left, as with standard output: not an error
        raise
    except OSError as e:
        raise cannot(path, e) from None
    finally:
        os.close(fd)


def _publish(folder: Path, target: Path, raw: Iterable[bytes], force: bool) -> None:
    """Write a temporary file beside `target`, then move it into place in one step."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.writelines(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        if force:
            os.replace(tmp, target)
        else:
            _link_no_clobber(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _link_no_clobber(tmp: str, path: Path) -> None:
    """Publish tmp as path unless path appeared meanwhile (a hard link never replaces)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise OutputError(f"{path}: already exists (use --force to overwrite)") from None
    except OSError:  # a file system without hard links: check, then rename
        if os.path.lexists(path):
            raise OutputError(f"{path}: already exists (use --force to overwrite)") from None
        os.replace(tmp, path)
