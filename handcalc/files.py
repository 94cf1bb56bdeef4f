"""Atomic, no-clobber file writes: a reader sees the old file or the whole new one, never half."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from handcalc.errors import OutputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: str | bytes, force: bool = False) -> None:
    """Write `data` to `path`; an existing file is replaced only with `force`."""
    if path.is_dir():
        raise OutputError(f"{path}: is a directory (expected a file name)")
    if path.exists() and not force:
        raise OutputError(f"{path}: already exists (use --force to overwrite)")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: folder {folder} does not exist")
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if force:
            os.replace(tmp, path)
        else:
            _link_no_clobber(tmp, path)
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
        if path.exists():
            raise OutputError(f"{path}: already exists (use --force to overwrite)") from None
        os.replace(tmp, path)
