"""The repository documents itself: no pointer to a document outside it, and every pointer to
`docs/` (path and heading anchor) exists.

The design, threading rules and provider facts live in `docs/design.md`, `docs/threading.md`
and `docs/providers/`; a clone of the repository must be enough to read what the code relies on.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("src", "tests", "docs", "scripts")
TEXT_SUFFIXES = {".py", ".md", ".json", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".sh",
                 ".html", ".js", ".css", ".eml", ".csv", ".sql", ".mako", ".j2", ""}
# Written in pieces so that this file does not match itself.
FORBIDDEN = ("DESIGN" + " §", "DESIGN" + ".md", "channels" + ".md", "../shared/" + "reference")

DOC_PATH = re.compile(r"(?<![\w/.-])(docs/[\w./-]+?\.md)(#[\w-]+)?")
MD_LINK = re.compile(r"\]\(([^)\s:#]+\.md)(#[\w-]+)?\)")


def _files() -> list[Path]:
    found = [ROOT / "README.md"]
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts or any(
                    part.endswith(".egg-info") for part in path.parts):
                continue  # build output, not the project's text
            if path.suffix.lower() in TEXT_SUFFIXES:
                found.append(path)
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ""


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@cache
def _anchors(path: Path) -> frozenset[str]:
    anchors: set[str] = set()
    in_code = False
    for line in _read(path).splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#{1,6}\s+(.*)", line)):
            anchors.add(_slug(match.group(1)))
    return frozenset(anchors)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_reference_to_documents_outside_the_repository() -> None:
    offenders = []
    for path in _files():
        for number, line in enumerate(_read(path).splitlines(), start=1):
            for needle in FORBIDDEN:
                if needle in line:
                    offenders.append(f"{_rel(path)}:{number}: {needle!r}")
    assert not offenders, "point to docs/ instead:\n" + "\n".join(offenders)


def _check(target: Path, anchor: str | None, where: str, broken: list[str]) -> None:
    if not target.is_file():
        broken.append(f"{where}: {_rel(target) if target.is_relative_to(ROOT) else target} "
                      "does not exist")
    elif anchor and anchor[1:] not in _anchors(target):
        broken.append(f"{where}: no heading for {anchor} in {_rel(target)}")


def test_every_docs_path_and_anchor_exists() -> None:
    broken: list[str] = []
    for path in _files():
        if path.parts[len(ROOT.parts)] not in ("src", "docs") and path.name != "README.md":
            continue
        text = _read(path)
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"{_rel(path)}:{number}"
            for match in DOC_PATH.finditer(line):
                _check(ROOT / match.group(1), match.group(2), where, broken)
            if path.suffix == ".md" and _rel(path).startswith("docs/"):
                for match in MD_LINK.finditer(line):
                    target = (path.parent / match.group(1)).resolve()
                    _check(target, match.group(2), where, broken)
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("heading, anchor", [
    ("Channel account config", "channel-account-config"),
    ("What is not a new message", "what-is-not-a-new-message"),
    ("Rule 1: reply chain", "rule-1-reply-chain"),
    ("Dedupe keys (`provider_event_id`)", "dedupe-keys-provider_event_id"),
])
def test_slug(heading: str, anchor: str) -> None:
    assert _slug(heading) == anchor
