"""Writing outputs so that a failure leaves no half-written file, and operating-system errors
as one ``lsi`` line that names the path and the fix.

Three tools, for three shapes of output:

- :func:`atomic_path` (and :func:`atomic_file`, :func:`write_text`, :func:`write_bytes` on top
  of it) writes **one file**: the caller writes a temporary sibling in the same folder, whose
  name ends with the target's own name (so ``savefig`` and ``to_netcdf`` see the same
  extension); when the block ends normally the file is flushed to disk and renamed onto the
  target in one step.  If the block raises anything, an interrupt included, the temporary is
  removed and the target is as it was.
- :func:`atomic_folder` writes **a set of files** (a report, a figure set): everything goes into
  a temporary sibling folder, and only when the block ends normally do the files move into
  the target folder.  The target then holds either its previous files or the complete new
  set, never a mix (see :func:`atomic_folder` for how, and for what happens to files lsi did
  not write: they are never deleted).
- :func:`os_error` restates an :class:`OSError` as an :class:`~lsi.exceptions.OutputError`
  or :class:`~lsi.exceptions.InputError` with one line (permission denied, no space left, a
  read-only file system, a folder or a file in the way, ``/proc`` or ``/sys``);
  :func:`os_errors` does it for a block, and :func:`check_output` finds those problems
  before any work is done.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_text(folder / "note.txt", "done\\n")
PosixPath('...note.txt')
>>> with atomic_path(folder / "table.csv") as tmp:   # for writers that want a path
...     _ = tmp.write_text("a,b\\n1,2\\n")
>>> sorted(p.name for p in folder.iterdir())
['note.txt', 'table.csv']
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import secrets
import shutil
import signal
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .exceptions import InputError, LsiError, OutputError

__all__ = [
    "atomic_path",
    "atomic_file",
    "write_text",
    "write_bytes",
    "atomic_folder",
    "check_output",
    "os_error",
    "os_errors",
]

#: Temporary files and folders start with this (hidden, and easy to recognise and remove).
TEMP_PREFIX = ".lsi-tmp-"

# below this much free space, a failure of a writer that does not say why (netCDF's
# "HDF error") is reported as a full disk
_NEARLY_FULL = 1 << 20

_KERNEL = ("/proc", "/sys")

PathLike = str | os.PathLike[str]


# --- errors ---------------------------------------------------------------------------------


def _show(path: PathLike) -> str:
    """A path for a one-line message (quoted if it holds a line break or other control)."""
    s = os.fspath(path)
    return repr(s) if any(not c.isprintable() for c in s) else s


def _kernel(path: Path) -> str | None:
    """``/proc`` or ``/sys`` if the path lies under it."""
    full = os.path.abspath(path)
    for root in _KERNEL:
        if full == root or full.startswith(root + os.sep):
            return root
    return None


def _blocker(path: Path) -> Path | None:
    """The nearest ancestor of ``path`` that exists and is not a folder, if any."""
    for parent in Path(os.path.abspath(path)).parents:
        if parent.exists() or parent.is_symlink():
            return None if parent.is_dir() else parent
    return None


def os_error(exc: OSError, path: PathLike, *, reading: bool = False) -> InputError | OutputError:
    """The one-line ``lsi`` error for an :class:`OSError` met while writing (or reading) ``path``.

    Parameters
    ----------
    exc : OSError
        The error raised by the operating system (or by a library on its behalf).
    path : str or path-like
        The path the user gave (not a temporary one): the message names it.
    reading : bool
        ``True`` for an input (an :class:`~lsi.exceptions.InputError`), ``False`` for an output
        (an :class:`~lsi.exceptions.OutputError`).

    Returns
    -------
    InputError or OutputError
        To be raised ``from exc``; it keeps ``exc.errno`` and names ``path`` in ``filename``.

    Examples
    --------
    >>> import errno
    >>> print(os_error(OSError(errno.ENOSPC, "No space left on device"), "out/sweep.nc"))
    cannot write out/sweep.nc: no space left on the device; free some space or write to another disk
    """
    p = Path(path)
    shown = _show(p)
    code = exc.errno
    kernel = _kernel(p)
    blocker = _blocker(p) if code == _errno.ENOTDIR or isinstance(exc, NotADirectoryError) else None
    if reading:
        if isinstance(exc, FileNotFoundError) or code == _errno.ENOENT:
            fix = f"no such file; check the path (relative paths start at {_show(os.getcwd())})"
        elif isinstance(exc, IsADirectoryError) or code == _errno.EISDIR:
            fix = "it is a folder; give the path of a file in it"
        elif blocker is not None:
            fix = f"{_show(blocker)} is a file, not a folder; check the path"
        elif isinstance(exc, PermissionError) or code in (_errno.EACCES, _errno.EPERM):
            fix = "permission denied; check the file's permissions or copy it somewhere you can read"
        else:
            fix = f"{(exc.strerror or str(exc)).lower()}; check the path"
        return InputError(f"cannot read {shown}: {fix}", errno=code, filename=os.fspath(path))
    parent = _show(p.parent if str(p.parent) else Path("."))
    if kernel is not None:
        fix = f"{kernel} holds the kernel's state, not files; choose an output path in a folder of your own"
    elif code in (_errno.ENOSPC, getattr(_errno, "EDQUOT", -1)):
        fix = "no space left on the device; free some space or write to another disk"
    elif code == _errno.EROFS:
        fix = "the file system is read-only; choose an output path on a writable disk"
    elif isinstance(exc, IsADirectoryError) or code == _errno.EISDIR:
        fix = "it is a folder; give a file name (for example inside it), or remove the folder"
    elif blocker is not None:
        fix = f"{_show(blocker)} is a file, not a folder; choose a path under a folder, or remove that file"
    elif isinstance(exc, FileExistsError) or code in (_errno.EEXIST, _errno.ENOTEMPTY):
        fix = "something of that name is already there; remove it or choose another path"
    elif isinstance(exc, FileNotFoundError) or code == _errno.ENOENT:
        fix = f"the folder {parent} does not exist; create it or choose another path"
    elif isinstance(exc, PermissionError) or code in (_errno.EACCES, _errno.EPERM):
        fix = f"permission denied; choose a folder you can write to, or change the permissions of {parent}"
    elif code == _errno.ENAMETOOLONG:
        fix = "the name is too long for the file system; choose a shorter one"
    else:
        fix = f"{(exc.strerror or str(exc)).lower()}; choose another path"
    return OutputError(f"cannot write {shown}: {fix}", errno=code, filename=os.fspath(path))


@contextlib.contextmanager
def os_errors(path: PathLike, *, reading: bool = False) -> Iterator[None]:
    """Turn any :class:`OSError` raised in the block into :func:`os_error`'s one line about ``path``.

    Examples
    --------
    >>> with os_errors("no/such/file.csv", reading=True):
    ...     open("no/such/file.csv").close()
    Traceback (most recent call last):
    lsi.exceptions.InputError: cannot read no/such/file.csv: no such file; check the path (...)
    """
    try:
        yield
    except OSError as exc:
        if isinstance(exc, LsiError):
            raise
        raise os_error(exc, path, reading=reading) from exc


def check_output(path: PathLike, *, folder: bool = False) -> None:
    """Raise the one-line :class:`~lsi.exceptions.OutputError` now if ``path`` cannot be written.

    Call it before long work whose result goes to ``path``: under ``/proc`` or ``/sys``, a file
    where a folder is needed (or the reverse), a missing folder (for a file; a folder's missing
    parents are created), no permission, a read-only file system.  A full disk shows only on
    writing.

    Parameters
    ----------
    path : str or path-like
        The file (or, with ``folder=True``, the folder) to be written.
    folder : bool
        ``path`` is a folder of outputs.
    """
    p = Path(path)
    with os_errors(p):  # a name too long, a loop of links: one line too
        _check_output(p, folder)


def _check_output(p: Path, folder: bool) -> None:
    if _kernel(p) is not None:
        raise os_error(OSError(_errno.EACCES, "kernel file system"), p)
    blocker = _blocker(p)
    if blocker is not None:
        raise os_error(NotADirectoryError(_errno.ENOTDIR, "Not a directory"), p)
    if p.is_dir() and not folder:
        raise os_error(IsADirectoryError(_errno.EISDIR, "Is a directory"), p)
    if p.exists() and not p.is_dir() and folder:
        raise OutputError(
            f"cannot write the folder {_show(p)}: a file of that name is there; "
            "choose another folder or remove the file",
            errno=_errno.ENOTDIR,
            filename=os.fspath(p),
        )
    parent = Path(os.path.abspath(p)).parent
    if not folder and not parent.is_dir():
        raise os_error(FileNotFoundError(_errno.ENOENT, "No such file or directory"), p)
    existing = next(a for a in (parent, *parent.parents) if a.is_dir())
    where = p if folder and p.is_dir() else existing
    try:
        readonly = bool(os.statvfs(where).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # pragma: no cover - no statvfs (Windows)
        readonly = False
    if readonly:
        raise os_error(OSError(_errno.EROFS, "Read-only file system"), p)
    if not os.access(where, os.W_OK | os.X_OK):
        raise os_error(PermissionError(_errno.EACCES, "Permission denied"), p)


def _nearly_full(folder: Path) -> bool:
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # pragma: no cover - no statvfs (Windows)
        return False
    return st.f_bavail * st.f_frsize < _NEARLY_FULL


def _restate(exc: BaseException, target: Path, temp: Path) -> BaseException | None:
    """The one-line error to raise instead of ``exc``, met while writing ``target`` through
    ``temp``; ``None`` to let ``exc`` through (an interrupt, an lsi error, an error about
    another file)."""
    if not isinstance(exc, Exception) or isinstance(exc, LsiError):
        return None
    if isinstance(exc, OSError):
        named = [os.path.abspath(os.fspath(f)) for f in (exc.filename, exc.filename2) if f is not None]
        inside = os.path.abspath(temp) + os.sep
        for f in named:
            if f.startswith(inside):  # a file written in a temporary folder: name its final place
                return os_error(exc, target / Path(f).relative_to(os.path.abspath(temp)))
        ours = {os.path.abspath(temp), os.path.abspath(target)}
        if not named or any(f in ours for f in named):
            return os_error(exc, target)
        return None
    # a library that hides the operating system's reason ("NetCDF: HDF error") on a full disk
    if _nearly_full(temp.parent):
        return os_error(OSError(_errno.ENOSPC, "No space left on device"), target)
    return None


# --- one file -------------------------------------------------------------------------------


def _temp_sibling(target: Path) -> Path:
    """A new name in the target's folder that ends with the target's own name."""
    token = secrets.token_hex(4)
    name = f"{TEMP_PREFIX}{token}-{target.name}"
    if len(name) > 200:  # keep under the file system's limit on a name, and keep the extension
        name = f"{TEMP_PREFIX}{token}{target.suffix[-40:]}"
    return target.with_name(name)


def _resolve(path: PathLike) -> Path:
    """The path to replace: a symbolic link is followed, so the link keeps pointing at the
    new file and the temporary lands on the same file system as the file replaced."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


def _sync(path: Path) -> None:
    """Flush a file's data to the disk (errors, such as a full disk on a network file
    system, are raised)."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename) to the disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open a folder
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except OSError:
        pass


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Write one file through a temporary sibling: the block gets its path; the target is
    replaced only when the block ends normally.

    For writers that take a path: ``fig.savefig(tmp)``, ``dataset.to_netcdf(tmp)``,
    ``frame.to_csv(tmp)``.  The temporary is created empty (so its name is reserved) in the
    target's folder, hidden (its name starts with ``.lsi-tmp-``) and ending with the target's
    name, so the extension is the same.  When the block ends normally the file is flushed to
    the disk, given the permissions of the file it replaces (or the usual ones for a new
    file), and renamed onto the target: a reader sees the previous file or the new one,
    never a part.  If the block raises anything, a ``KeyboardInterrupt`` included, the
    temporary is removed and the target is untouched.

    Errors of the operating system about the file (no space, no permission, a read-only disk,
    a folder in the way) are raised as one-line :class:`~lsi.exceptions.OutputError` naming
    the target; so is a writer's unexplained failure when the disk is full.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.

    Yields
    ------
    pathlib.Path
        The temporary path to write.
    """
    target = _resolve(path)
    check_output(target)
    temp = _temp_sibling(target)
    try:
        os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except OSError as exc:
        raise os_error(exc, target) from exc
    try:
        yield temp
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            pass
        else:
            with contextlib.suppress(OSError):
                os.chmod(temp, mode)
        _sync(temp)
        os.replace(temp, target)
    except BaseException as exc:
        _remove(temp)
        better = _restate(exc, target, temp)
        if better is None:
            raise
        raise better from exc
    _sync_folder(target.parent)


@contextlib.contextmanager
def atomic_file(
    path: PathLike, mode: str = "w", *, encoding: str = "utf-8", newline: str | None = None
) -> Iterator[IO[Any]]:
    """``open(path, mode)`` for writing, atomically (see :func:`atomic_path`).

    Parameters
    ----------
    path : str or path-like
    mode : {"w", "wb"}
        Text or bytes.
    encoding, newline : str, optional
        For text (UTF-8 by default, whatever the platform's preference).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "report.md"
    >>> with atomic_file(p) as fh:
    ...     _ = fh.write("# Report\\n")
    >>> p.read_text()
    '# Report\\n'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode {mode!r}; atomic_file writes whole files: use 'w' (text) or 'wb' (bytes)")
    with atomic_path(path) as temp:
        if mode == "wb":
            with open(temp, "wb") as fh:
                yield fh
        else:
            with open(temp, "w", encoding=encoding, newline=newline) as fh:
                yield fh


def write_text(path: PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    with atomic_file(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with atomic_file(path, "wb") as fh:
        fh.write(data)
    return Path(path)


# --- a set of files -------------------------------------------------------------------------


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold SIGINT for the block (the few renames of a commit); deliver it afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held and callable(previous):  # the usual handler raises KeyboardInterrupt here
            previous(signal.SIGINT, None)


def _files_under(folder: Path) -> list[Path]:
    """Every file (and symbolic link) under ``folder``, relative to it, in a fixed order."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        here = Path(root)
        for name in sorted(names):
            found.append((here / name).relative_to(folder))
        for name in dirs:
            if (here / name).is_symlink():
                found.append((here / name).relative_to(folder))
    return found


def _check_merge(new: Path, target: Path, names: list[Path]) -> None:
    """Refuse, before anything moves, a new file whose place in ``target`` is taken by a
    folder, or whose folder is taken by a file."""
    for rel in names:
        dest = target / rel
        if dest.is_dir() and not dest.is_symlink() and not (new / rel).is_dir():
            raise OutputError(
                f"cannot write {_show(dest)}: a folder of that name is in the way; "
                "remove it or choose another output folder",
                errno=_errno.EISDIR,
                filename=os.fspath(dest),
            )
        for parent in list(rel.parents)[:-1]:
            there = target / parent
            if (there.exists() or there.is_symlink()) and not there.is_dir():
                raise OutputError(
                    f"cannot write {_show(dest)}: {_show(there)} is a file, not a folder; "
                    "remove it or choose another output folder",
                    errno=_errno.ENOTDIR,
                    filename=os.fspath(dest),
                )


def _merge(new: Path, target: Path) -> None:
    """Move every file of ``new`` into the existing folder ``target``, replacing files of the
    same name; on any failure, put back what was there (the previous state)."""
    names = _files_under(new)
    _check_merge(new, target, names)
    old = _temp_sibling(target.with_name(target.name + "-previous"))
    os.mkdir(old, 0o700)
    done: list[tuple[Path, Path | None]] = []  # (placed file, its predecessor kept in old)
    made: list[Path] = []  # folders created in target
    try:
        for k, rel in enumerate(names):
            dest = target / rel
            for parent in reversed(list(rel.parents)[:-1]):
                if not (target / parent).is_dir():
                    os.mkdir(target / parent)
                    made.append(target / parent)
            kept: Path | None = None
            if dest.exists() or dest.is_symlink():
                kept = old / str(k)
                if dest.is_symlink():
                    os.rename(dest, kept)
                else:
                    try:  # a second name for the old file: the new one replaces it in one step
                        os.link(dest, kept)
                    except OSError:
                        os.rename(dest, kept)
            os.replace(new / rel, dest)
            done.append((dest, kept))
    except BaseException:
        for dest, kept in reversed(done):
            with contextlib.suppress(OSError):
                if kept is None:
                    dest.unlink()
                else:
                    os.replace(kept, dest)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
    _sync_folder(target)


@contextlib.contextmanager
def atomic_folder(path: PathLike) -> Iterator[Path]:
    """Write a set of files (a report, a figure set) into the folder ``path`` all at once.

    The block writes into a temporary sibling folder (hidden, in the same parent); when it
    ends normally, the files move into ``path``.  If the block raises anything, an interrupt
    or a full disk included, the temporary folder is removed and ``path`` is untouched.

    What ``path`` holds afterwards:

    - ``path`` did not exist: the temporary folder is renamed to it in one step (missing
      parent folders are created first).
    - ``path`` exists: each new file replaces the file of the same name in one step, with
      interrupts held for those few renames; should one of them fail, the files already moved
      are put back.  So ``path`` holds its previous files or the complete new set.
    - Files in ``path`` that the block did not write (the user's notes, an older run's
      figure that this run does not draw) are **left as they are, never deleted**.

    Only a crash of the machine in the milliseconds of the renames could leave a mix.

    Parameters
    ----------
    path : str or path-like
        The output folder.

    Yields
    ------
    pathlib.Path
        The temporary folder to write into; a file written at ``tmp / name`` ends up at
        ``path / name`` (sub-folders included).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> with atomic_folder(out) as tmp:
    ...     _ = (tmp / "report.md").write_text("# Report\\n")
    ...     _ = (tmp / "fit.png").write_bytes(b"...")
    >>> sorted(p.name for p in out.iterdir())
    ['fit.png', 'report.md']
    """
    target = _resolve(path)
    check_output(target, folder=True)
    made: list[Path] = []
    parent = Path(os.path.abspath(target)).parent
    for folder in reversed([parent, *parent.parents]):
        if not folder.is_dir():
            try:
                os.mkdir(folder)
            except OSError as exc:
                raise os_error(exc, target) from exc
            made.append(folder)
    temp = _temp_sibling(target)
    try:
        os.mkdir(temp, 0o777)
    except OSError as exc:
        raise os_error(exc, target) from exc
    try:
        yield temp
        for rel in _files_under(temp):
            if not (temp / rel).is_symlink():
                _sync(temp / rel)
        with _interrupts_held():
            try:
                os.rename(temp, target)  # only when target does not exist (or is empty)
            except OSError as exc:
                if not target.is_dir() or exc.errno not in (_errno.EEXIST, _errno.ENOTEMPTY):
                    raise
                _merge(temp, target)
        _sync_folder(parent)
    except BaseException as exc:
        _remove(temp)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        better = _restate(exc, target, temp)
        if better is None:
            raise
        raise better from exc
    finally:
        _remove(temp)
