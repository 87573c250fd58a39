"""The `threadline` command line (docs/design.md#command-line): one module per command
group, assembled here.

Commands parse and print; the work is done by the domain packages. An expected failure
(a typed `ThreadlineError`) prints `error: message (code)` on stderr and exits with 1."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from threadline.cli import (
    accounts,
    agents,
    bench,
    customers,
    keys,
    kpis,
    replay,
    run,
    tokens,
    triage,
)
from threadline.cli.common import PlainCommand
from threadline.config import get_settings
from threadline.errors import ThreadlineError
from threadline.logs import configure as configure_logs


class _Root(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ThreadlineError as exc:
            typer.echo(f"error: {exc.message} ({exc.code})", err=True)
            raise typer.Exit(1) from None


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"threadline {version('threadline')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("threadline (not installed)")
        raise typer.Exit()


app = typer.Typer(cls=_Root, help="Threadline: social customer care in one desktop.",
                  no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False)


@app.callback()
def _root(version_: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Threadline: social customer care in one desktop."""


for command in (run.migrate, run.serve, run.worker, run.demo, run.sandbox, replay.replay,
                triage.triage, triage.train):
    app.command(command.__name__, cls=PlainCommand)(command)
# the benchmarks take their own options after `--`
app.command("bench", cls=PlainCommand, context_settings={"allow_extra_args": True})(bench.bench)
app.add_typer(accounts.app, name="accounts")
app.add_typer(agents.app, name="agents")
app.add_typer(tokens.app, name="tokens")
app.add_typer(keys.app, name="keys")
app.add_typer(customers.app, name="customers")
app.add_typer(kpis.app, name="kpis")


def main() -> None:
    configure_logs(get_settings())
    app()


__all__ = ["app", "main"]
