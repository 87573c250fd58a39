"""``threadline triage TEXT`` and ``threadline triage --outbound --visibility public TEXT``.

Prints exactly one JSON object (docs/design.md#triage-output). Mount with
``app.add_typer(cli.app, name="triage")`` or call ``triage_command`` directly.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from threadline.triage.analyze import analyze
from threadline.triage.outbound import check_outbound

app = typer.Typer(add_completion=False, help="Triage one message and print JSON.")

VISIBILITIES = ("public", "private")


def triage_command(text: str, outbound: bool = False, visibility: str = "public") -> dict[str, Any]:
    """The JSON object printed by the command: triage fields, plus the verdict for outbound."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    result = analyze(text, visibility=visibility).to_dict()
    if outbound:
        result.update(check_outbound(text, visibility=visibility).to_dict())
    return result


@app.callback(invoke_without_command=True)
def main(
    text: Annotated[str, typer.Argument(help="The message text.")],
    outbound: Annotated[
        bool, typer.Option("--outbound", help="Check an agent's reply before it is sent.")
    ] = False,
    visibility: Annotated[str, typer.Option("--visibility", help="public or private.")] = "public",
) -> None:
    """Print one JSON object with the triage of TEXT."""
    try:
        result = triage_command(text, outbound=outbound, visibility=visibility)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--visibility") from exc
    typer.echo(json.dumps(result, ensure_ascii=False))
