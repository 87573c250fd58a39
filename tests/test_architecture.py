"""Structural rules of the code base that are cheap to check on every run."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from threadline.channels.base import ChannelAdapter, ChannelTraits
from threadline.channels.registry import get_adapter, kinds

ROOT = Path(__file__).resolve().parents[1]


def test_test_modules_have_unique_names():
    names = Counter(p.name for p in (ROOT / "tests").rglob("test_*.py"))
    assert [n for n, c in names.items() if c > 1] == []


def test_every_registered_channel_loads_and_declares_its_traits():
    for kind in kinds():
        adapter = get_adapter(kind)
        assert isinstance(adapter, ChannelAdapter), kind
        assert isinstance(adapter.traits, ChannelTraits), kind
        assert adapter.traits.public or adapter.traits.private, kind


def test_every_channel_folder_has_readme_and_fixtures():
    channels = ROOT / "src/threadline/channels"
    for folder in sorted(p for p in channels.iterdir() if p.is_dir() and
                         not p.name.startswith("__")):
        assert (folder / "README.md").exists(), folder.name
        assert (folder / "fixtures").is_dir() or folder.name in ("api", "webchat"), folder.name


def test_request_sessions_commit_before_the_response():
    """A yield dependency ends after the response unless scope="function": the client would
    hear 201 before the commit. Every session dependency must be function-scoped."""
    offenders = []
    for path in (ROOT / "src/threadline/web").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for dep in ("Depends(write_session", "Depends(read_session"):
                if dep in line and 'scope="function"' not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []


def _contract_modules() -> list[str]:
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    names: list[str] = []
    for contract in config["contracts"]:
        assert "allow_indirect_imports" not in contract, contract["name"]
        for key in ("layers", "source_modules", "modules"):
            for entry in contract.get(key, []):
                names += [part.strip() for part in entry.split("|")]
    return names


def test_every_top_level_package_is_under_an_import_contract():
    """A new top-level package or module must be placed in the layers (or given a contract of
    its own) before it can be imported from anywhere: the layout stays one folder per flow."""
    package = ROOT / "src/threadline"
    tops = sorted({p.stem for p in package.glob("*.py") if p.stem != "__init__"}
                  | {p.name for p in package.iterdir()
                     if p.is_dir() and (p / "__init__.py").exists()})
    covered = _contract_modules()
    missing = [t for t in tops if not any(
        name == f"threadline.{t}" or name.startswith(f"threadline.{t}.") for name in covered)]
    assert missing == []
    # a package split into sub-layers (hops: records below the flows, its flow above them)
    # holds nothing beside its sub-packages
    for split in {name.split(".")[1] for name in covered if name.count(".") >= 2
                  and name.split(".")[1] != "channels"}:
        loose = [p.name for p in (package / split).iterdir()
                 if p.suffix == ".py" and p.name != "__init__.py"]
        assert loose == [], split


def test_the_web_layer_writes_no_queries():
    """Routes translate HTTP and render: every query lives in a service of a domain or a flow
    (the health check's `SELECT 1` ping is the one statement the web layer sends itself)."""
    import re

    query = re.compile(r"\bselect\(|session\.(execute|scalars?|query)\(")
    offenders = []
    for path in (ROOT / "src/threadline/web").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if query.search(line) and 'text("SELECT 1")' not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_no_database_work_on_the_event_loop():
    """A coroutine in the web layer neither takes a session nor opens one itself (only in a
    function it hands to the thread pool). A query on the event loop that waits for a lock
    (SQLite's writer, a PostgreSQL row) stops every request, including the one holding the
    lock, whose commit needs the loop: the server hangs until the lock times out. A handler
    that needs the form takes `PostedForm` and stays a plain function."""
    import ast

    sessions = {"ReadSession", "WriteSession", "Session"}
    offenders = []
    for path in (ROOT / "src/threadline/web").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
            for arg in node.args.args + node.args.kwonlyargs:
                hint = arg.annotation  # a session itself, not a function taking one
                if isinstance(hint, ast.Subscript) and ast.unparse(hint.value) == "Annotated":
                    hint = hint.slice.elts[0] if isinstance(hint.slice, ast.Tuple) else hint
                if isinstance(hint, ast.Name) and hint.id in sessions:
                    offenders.append(f"{where} takes a session ({arg.arg})")
            pending: list[ast.AST] = list(node.body)
            while pending:  # the coroutine's own statements, not the functions it defines
                child = pending.pop()
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                    continue
                if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                        and child.func.attr == "session"):
                    offenders.append(f"{where} opens a session")
                pending.extend(ast.iter_child_nodes(child))
    assert offenders == []
