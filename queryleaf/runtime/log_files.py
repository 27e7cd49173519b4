"""`deliver_to = 'log:FILE'` files stay inside one log directory and never follow a symlink.

FILE is a plain file name (no directory part, no `..`, checked when the subscription is
created: queryleaf/subscriptions/options.py); it is opened relative to the log directory's
descriptor with O_NOFOLLOW, so a symlink planted under that name is refused, not written
through, and only a regular file is written (a FIFO is refused, never waited on). The log
directory is the connection's `log_dir`, else QUERYLEAF_LOG_DIR, else `queryleaf-logs` in the
working directory; it is created on first use."""

from __future__ import annotations

import errno
import os
import stat

DEFAULT_LOG_DIR = "queryleaf-logs"


def log_directory(configured: str | None = None) -> str:
    return configured or os.environ.get("QUERYLEAF_LOG_DIR") or DEFAULT_LOG_DIR


def plain_file_name(name: str) -> bool:
    """A file name with no directory part: what `log:` accepts."""
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
        and not name.startswith("~")
    )


def append_line(directory: str | None, name: str, data: bytes) -> None:
    """Append `data` to `name` in the log directory, refusing symlinks and escapes."""
    if not plain_file_name(name):
        raise PermissionError(f"log file {name!r} is not a plain file name in the log directory")
    base = log_directory(directory)
    os.makedirs(base, exist_ok=True)
    flags = os.O_DIRECTORY | os.O_RDONLY
    base_fd = os.open(base, flags)
    # O_NONBLOCK: a FIFO planted under the name fails at once (or is refused below) instead
    # of blocking every log delivery until something reads it.
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(name, flags | getattr(os, "O_CLOEXEC", 0), 0o644, dir_fd=base_fd)
    except OSError as error:
        if error.errno == errno.ENXIO:  # a FIFO with no reader
            raise PermissionError(f"log file {name!r} is not a regular file") from None
        raise
    finally:
        os.close(base_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PermissionError(f"log file {name!r} is not a regular file")
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
