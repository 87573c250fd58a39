"""`threadline tokens`: API tokens: create, list, revoke."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from threadline.cli.common import (
    JsonFlag,
    PlainCommand,
    RoleName,
    WorkspaceOption,
    print_json,
    print_rows,
    runtime,
    typer_app,
    workspace_id,
)

app = typer_app("API tokens: create, list, revoke.")


@app.command("create", cls=PlainCommand)
def create(role: Annotated[RoleName, typer.Option(help="What the token may do.")],
           name: Annotated[str, typer.Option(metavar="NAME",
                                             help="What the token is for.")] = "api",
           workspace: WorkspaceOption = None) -> None:
    """Create an API token (printed once; only its hash is stored)."""
    from threadline.workspace.service import create_token

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            token, plain = create_token(session, ws, role=role.value, name=name)
            out = {"id": str(token.id), "role": role.value, "token": plain}
    finally:
        rt.close()
    print_json(out)


@app.command("list", cls=PlainCommand)
def list_tokens(workspace: WorkspaceOption = None, as_json: JsonFlag = False) -> None:
    """List the workspace's API tokens: id, first characters, name, role, dates (never the
    token, which is not stored)."""
    from threadline.workspace.admin import list_tokens as tokens_of

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session(write=False) as session:
            rows = [{"id": str(t.id), "prefix": t.prefix, "name": t.name, "role": t.role,
                     "agent_id": str(t.agent_id) if t.agent_id else None,
                     "created_at": t.created_at, "revoked_at": t.revoked_at}
                    for t in tokens_of(session, ws)]
    finally:
        rt.close()
    print_rows(rows, ["id", "prefix", "name", "role", "created_at", "revoked_at"],
               as_json=as_json)


@app.command("revoke", cls=PlainCommand)
def revoke(token_id: Annotated[uuid.UUID, typer.Argument(
               metavar="TOKEN_ID", help="The token's id (see `tokens list`).")],
           workspace: WorkspaceOption = None) -> None:
    """Revoke an API token: the API refuses it (401) from the next request on."""
    from threadline.workspace.admin import revoke as revoke_token

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            token, when = revoke_token(session, ws, token_id, actor_type="system",
                                       actor_id="cli")
            out = {"id": str(token.id), "prefix": token.prefix, "revoked_at": when}
    finally:
        rt.close()
    print_json(out)
