"""A folder of files written as a unit: a reader sees the old folder or the whole new one.

The files are written into a hidden folder beside the target, `.NAME.handcalc-incomplete-XXXX`,
then renamed into place in one step. A run that is killed leaves only that hidden folder, named
for what it is; the next run into the same target removes it. While a run writes, it holds a lock
on its folder, so a run never removes another's work in progress. Two runs into one new folder
cannot both succeed: the second rename finds the folder full and fails. With --force an old
folder is moved aside, the new one renamed into place and the old one removed, but only a folder
that `is_ours` recognises: a folder of other files is never removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from handcalc.errors import OutputError
from handcalc.files import cannot, umask

INCOMPLETE = "handcalc-incomplete-"
REPLACED = "handcalc-replaced-"
Recognise = Callable[[Path], bool]


def check(folder: Path, force: bool, is_ours: Recognise) -> None:
    """Refuse before any work: not a folder, the current folder, a folder in use."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: not a folder")
    here = Path.cwd()
    if folder.resolve() in (here, *here.parents):
        raise OutputError(f"{folder}: the current folder cannot be replaced (name a new folder)")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise OutputError(f"{folder}: not empty (use --force to replace it)")
        if not is_ours(folder):
            raise OutputError(
                f"{folder}: holds files handcalc did not write; not replaced, even with --force "
                "(name an empty or a new folder)"
            )


def publish(folder: Path, files: Mapping[str, bytes], force: bool, is_ours: Recognise) -> None:
    """Write `files` into a new folder beside `folder`, then put it in `folder`'s place."""
    check(folder, force, is_ours)
    target = _target(folder)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep(target.parent, target.name)
        with _staging(target.parent, target.name) as stage:
            for name, data in files.items():
                _write(stage / name, data)
            _sync([stage / name for name in files])
            _swap(stage, (folder, target), force, is_ours)
    except OSError as e:
        raise cannot(folder, e) from None


def _target(folder: Path) -> Path:
    """The folder's path with no '..' through it: "grades/../grades" no longer names the folder
    once it is moved aside. A link as the last part stays a link, never replaced."""
    if folder.name in ("", ".."):
        return folder.resolve()
    return Path(os.path.realpath(folder.parent)) / folder.name


def sweep(parent: Path, name: str) -> None:
    """Remove what killed runs into `name` left behind; a folder still locked is in use."""
    stem = glob.escape(name)
    for leftover in parent.glob(f".{stem}.{REPLACED}*"):
        discard(leftover)
    for leftover in parent.glob(f".{stem}.{INCOMPLETE}*"):
        with contextlib.suppress(OSError), _locked(leftover, wait=False):
            discard(leftover)


def discard(path: Path) -> None:
    """Remove a folder this module made, whatever it holds by now."""
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def _locked(path: Path, wait: bool) -> Iterator[None]:
    """An exclusive lock on a folder; without `wait`, BlockingIOError when another holds it."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _staging(parent: Path, name: str) -> Iterator[Path]:
    """A locked hidden folder beside the target; removed if the block fails."""
    stage = Path(tempfile.mkdtemp(prefix=f".{name}.{INCOMPLETE}", dir=parent))
    try:
        with _locked(stage, wait=True):
            os.chmod(stage, 0o777 & ~umask())
            yield stage
    except BaseException:
        discard(stage)
        raise


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(exist_ok=True)  # a name in a subfolder, such as feedback/NAME.md
    with open(path, "xb") as f:
        f.write(data)


def _sync(paths: list[Path]) -> None:
    """Every file on disk before the folder is renamed into place; the syncs side by side,
    so that the disk commits them together instead of one by one (an exam's 303 files: 1.4 s
    one by one, 0.2 s side by side)."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(_fsync, paths))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(stage: Path, named: tuple[Path, Path], force: bool, is_ours: Recognise) -> None:
    """Rename `stage` to the folder (`named`: as given, and its target); with `force`, a folder
    of ours there is replaced whole."""
    folder, target = named
    try:
        os.rename(stage, target)  # replaces an empty folder, never a full one
        return
    except OSError as e:
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    check(folder, force, is_ours)  # filled by another run meanwhile, or replaced with --force
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.{REPLACED}", dir=stage.parent))
    os.rename(target, aside)
    try:
        os.rename(stage, target)
    except BaseException:  # Ctrl-C between the renames: the old folder back in its place,
        os.rename(aside, target)  # since the next run sweeps away what is left aside
        raise
    discard(aside)
