"""Every command's and subcommand's --help renders, documents every option and argument,
shows no raw type labels, and lists the choices where there are some."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.metadata import version

import pytest
import typer
from typer.testing import CliRunner

from threadline.cli import app

RAW_TYPE = re.compile(r"<(bool|str|int|float|path|UUID|uuid|datetime|text|integer)>", re.I)
runner = CliRunner()


def walk(command: typer.core.TyperGroup | typer.core.TyperCommand,
         path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


COMMANDS = list(walk(typer.main.get_command(app)))


def test_the_tree_has_every_group_and_command() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"serve", "worker", "migrate", "demo", "sandbox", "replay", "train", "triage",
            "bench", "accounts create", "accounts list", "accounts disable", "accounts enable",
            "agents create", "agents list", "agents disable", "agents enable",
            "agents reset-password", "agents reset-totp", "tokens create", "tokens list",
            "tokens revoke", "keys generate", "keys rotate", "customers export",
            "customers erase"} <= paths


@pytest.mark.parametrize(("path", "command"), COMMANDS,
                         ids=[" ".join(p) or "threadline" for p, _ in COMMANDS])
def test_help(path: tuple[str, ...], command: object) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert not RAW_TYPE.search(result.stdout), result.stdout
    assert getattr(command, "help", None), f"{path} has no help text"
    for param in getattr(command, "params", []):
        assert getattr(param, "help", None), f"{path}: {param.name} has no help text"


def test_bench_lists_its_choices() -> None:
    out = runner.invoke(app, ["bench", "--help"]).stdout
    assert "ingest|threading|triage|desktop|hostile|guard" in out
    bad = runner.invoke(app, ["bench", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.stderr


def test_flags_render_as_flags() -> None:
    out = runner.invoke(app, ["replay", "--help"]).stdout
    assert "--process / --no-process" in out
    assert re.search(r"--web\s+Web only", runner.invoke(app, ["serve", "--help"]).stdout)


def test_triage_is_a_plain_command() -> None:
    out = runner.invoke(app, ["triage", "--help"]).stdout
    assert "COMMAND" not in out and "TEXT" in out and "--json" in out
    assert "public|private" in out


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"threadline {version('threadline')}"
