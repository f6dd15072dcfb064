"""Writing files atomically: the one writer of every file the project makes (drawings, pages,
plots, model files), kept in a module of its own so that drawing a graph imports nothing else."""

from __future__ import annotations

import contextlib
import os
import secrets

__all__ = ["check_writable", "write_atomic"]


def _target(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(path as given, its folder) for a path that names a file; a ValueError for "" or "dir/"."""
    path = os.fspath(path)
    if not isinstance(path, str):  # bytes paths: the messages below are text
        path = os.fsdecode(path)
    name = os.path.basename(path)
    if name in ("", ".", ".."):
        raise IsADirectoryError(f"cannot write {path!r}: give the path of a file, not of a folder")
    return path, os.path.dirname(path) or os.curdir


def _temporary(folder: str) -> str:
    # Short and fixed in length, so any legal file name can be written through it (a name of 255
    # bytes plus a suffix would not be a legal name).
    return os.path.join(folder, f".tmp-{secrets.token_hex(6)}")


def _named(error: OSError, path: str) -> OSError:
    """`error` again (same type and errno), its message naming `path`, the file being written,
    rather than the hidden temporary file."""
    reason = error.strerror or str(error)
    named = type(error)(f"cannot write {path!r}: {reason}")
    named.errno = error.errno
    return named


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise the error `write_atomic(path, ...)` would raise for the folder or name (missing,
    not writable, a folder, name too long), without writing anything: a command checks this
    before it prints or computes anything."""
    path, folder = _target(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path!r}: it is a folder")
    probe = _temporary(folder)
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        os.unlink(probe)
    except OSError as error:
        raise _named(error, path) from None
    name_max = 255
    with contextlib.suppress(OSError, ValueError, AttributeError):
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    if len(os.fsencode(os.path.basename(path))) > name_max:
        raise OSError(f"cannot write {path!r}: the file name is longer than {name_max} bytes")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` all at once: into a temporary file in the same folder, then `os.replace`.

    A reader never sees half a file, and a failure leaves any previous file untouched; its error
    names `path`. The temporary file is opened with mode 0o666 so the umask sets the permissions,
    as for any new file.
    """
    path, folder = _target(path)
    temporary = _temporary(folder)
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise _named(error, path) from None
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise _named(error, path) from None
        raise
