"""What the benchmarks share: their sections of docs/benchmarks.md (each rewrites its own `## …` section, or
appends it), a free loopback port, a timestamped log line."""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
INTRO = ("# Benchmarks\n\nLatest results of `make bench`; each section is rewritten by its benchmark with "
         "`--write-docs`.\n")


def _pattern(title: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def read_section(title: str) -> str | None:
    """The section headed `title` (e.g. "## Serving") as it stands, or None."""
    found = _pattern(title).search(DOCS.read_text()) if DOCS.exists() else None
    return found.group(0) if found else None


def write_section(title: str, text: str) -> None:
    """Replace the section headed `title` with `text` (which starts with that heading), or append it."""
    current = DOCS.read_text() if DOCS.exists() else INTRO
    pattern = _pattern(title)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text.rstrip("\n") + "\n\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    DOCS.parent.mkdir(parents=True, exist_ok=True)
    DOCS.write_text(updated.rstrip("\n") + "\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def scratch(prefix: str, keep: bool) -> Iterator[Path]:
    """A temporary folder for one benchmark run, removed afterwards unless `keep` (then its path is printed)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        if keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
