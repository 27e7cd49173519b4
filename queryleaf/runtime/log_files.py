"""`deliver_to = 'log:FILE'` files stay inside one log directory and never follow a symlink.

FILE is a plain file name (no directory part, no `..`, checked when the subscription is
created: queryleaf/subscriptions/options.py); it is opened relative to the log directory's
descriptor with O_NOFOLLOW, so a symlink planted under that name is refused, not written
through. The log directory is the connection's `log_dir`, else QUERYLEAF_LOG_DIR, else
`queryleaf-logs` in the working directory; it is created on first use."""

from __future__ import annotations

import os

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
    try:
        fd = os.open(
            name,
            os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
            0o644,
            dir_fd=base_fd,
        )
    finally:
        os.close(base_fd)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
