"""The acceptance check of the logs: every log record of the test run, written as the JSON
lines production writes at DEBUG, holds none of the secrets the tests used (docs/logging.md).

`recording` installs, for the whole session, a root handler with Threadline's JSON formatter
writing a file, at DEBUG, with the clients that print URLs and headers held at WARNING as
`threadline.logs.configure` holds them. `found_in` then greps the file for the values: the
card numbers and credentials of tests/secrets_scan.py, every channel account's secrets, and
what tests `remember` (API tokens, passwords, the secret key, customers' coordinates).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from threadline.logs import QUIET_LOGGERS, make_handler

_remembered: set[str] = set()
MIN_LENGTH = 6  # shorter values would match ids and timestamps by chance


def remember(*values: str) -> None:
    """Values a test used that must never reach a log line."""
    _remembered.update(v for v in values if len(v) >= MIN_LENGTH)


def remembered() -> set[str]:
    return set(_remembered)


@contextmanager
def recording(path: Path) -> Iterator[None]:
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    stream = path.open("w", encoding="utf-8")
    handler = make_handler("json", stream)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        stream.close()
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def found_in(path: Path, values: Iterable[str]) -> list[str]:
    """Each value present in the log file, with the logger of its first line."""
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    found = []
    for value in sorted(set(values)):
        at = text.find(value)
        if at >= 0:
            line = text[text.rfind("\n", 0, at) + 1:text.find("\n", at)]
            logger = line.split('"logger": "', 1)[-1].split('"', 1)[0]
            found.append(f"{value!r} in a log line of {logger}")
    return found
