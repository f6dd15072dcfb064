"""Writing files atomically: the one writer of every file the project makes (drawings, pages,
plots, model files), kept in a module of its own so that drawing a graph imports nothing else."""

from __future__ import annotations

import contextlib
import os
import secrets

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` all at once: into a temporary file in the same folder, then `os.replace`.

    A reader never sees half a file, and a failure leaves any previous file untouched. The
    temporary file is opened with mode 0o666 so the umask sets the permissions, as for any new file.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
