"""`threadline triage` (one message) and `threadline train` (a workspace's model)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from threadline.cli.common import WorkspaceOption, runtime, workspace_id


class VisibilityName(StrEnum):
    public = "public"
    private = "private"


def triage(text: Annotated[str | None, typer.Argument(
               metavar="TEXT", help="The message text (or --jsonl).")] = None,
           outbound: Annotated[bool, typer.Option(
               "--outbound", help="Check an agent's reply before it is sent.")] = False,
           visibility: Annotated[VisibilityName, typer.Option(
               help="Where the message is (or would be) posted.")] = VisibilityName.public,
           jsonl: Annotated[str | None, typer.Option(
               "--jsonl", metavar="FILE",
               help="Triage many messages: a file (or - for standard input) of JSON lines, "
                    'each {"text": ..., "id"?, "visibility"?, "outbound"?} or a JSON '
                    "string; prints one JSON object per line, in order (a bad line gives "
                    '{"line": N, "error": ...}; the exit code is then 1).')] = None,
           as_json: Annotated[bool, typer.Option(
               "--json", help="Print one JSON object (the only format: accepted so that "
                              "scripts can ask for JSON from every command).")] = False,
           ) -> None:
    """Triage one message and print one JSON object: relevance, category, sentiment,
    urgency, language, personal data found, and for --outbound whether it is blocked. With
    --jsonl, every line of a file in one process."""
    from threadline.triage.cli import bounded_lines, triage_command, triage_lines

    del as_json  # triage prints JSON either way (a stable interface)
    if (text is None) == (jsonl is None):
        typer.echo("error: give either TEXT or --jsonl FILE", err=True)
        raise typer.Exit(2)
    if text is not None:
        result = triage_command(text, outbound=outbound, visibility=visibility.value)
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    assert jsonl is not None
    try:
        source = sys.stdin.buffer if jsonl == "-" else open(jsonl, "rb")  # noqa: SIM115
    except OSError as exc:
        typer.echo(f"error: cannot read {jsonl}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
    failed = False
    try:
        for out in triage_lines(bounded_lines(source)):
            failed = failed or ("line" in out and "error" in out)
            sys.stdout.write(json.dumps(out) + "\n")  # ASCII: any id or text is writable
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    sys.stdout.flush()
    if failed:
        raise typer.Exit(1)


def train(workspace: WorkspaceOption = None) -> None:
    """Retrain the workspace's triage model from its agents' corrections (one JSON object)."""
    from threadline.inbound.learning import NotEnoughExamples, train_workspace

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            out = train_workspace(session, ws, actor_type="system", actor_id="cli")
    except NotEnoughExamples as exc:
        sys.stdout.write(json.dumps({"error": {"code": "not_enough_examples",
                                               "message": str(exc)}}) + "\n")
        raise typer.Exit(1) from None
    finally:
        rt.close()
    sys.stdout.write(json.dumps(out) + "\n")
