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


def triage(text: Annotated[str, typer.Argument(metavar="TEXT", help="The message text.")],
           outbound: Annotated[bool, typer.Option(
               "--outbound", help="Check an agent's reply before it is sent.")] = False,
           visibility: Annotated[VisibilityName, typer.Option(
               help="Where the message is (or would be) posted.")] = VisibilityName.public,
           as_json: Annotated[bool, typer.Option(
               "--json", help="Print one JSON object (the only format: accepted so that "
                              "scripts can ask for JSON from every command).")] = False,
           ) -> None:
    """Triage one message and print one JSON object: relevance, category, sentiment,
    urgency, language, personal data found, and for --outbound whether it is blocked."""
    from threadline.triage.cli import triage_command

    del as_json  # triage prints JSON either way (a stable interface)
    result = triage_command(text, outbound=outbound, visibility=visibility.value)
    typer.echo(json.dumps(result, ensure_ascii=False))


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
