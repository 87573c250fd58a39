"""`threadline accounts`: connect, list, disable and enable channel accounts."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import typer

from threadline.cli.common import (
    JsonFlag,
    PlainCommand,
    WorkspaceOption,
    print_json,
    print_rows,
    runtime,
    typer_app,
    workspace_id,
)

app = typer_app("Channel accounts: connect, list, disable, enable.")

AccountId = Annotated[uuid.UUID, typer.Argument(metavar="ACCOUNT_ID",
                                                help="The account's id (see `accounts list`).")]


@app.command("create", cls=PlainCommand)
def create(kind: Annotated[str, typer.Option(metavar="KIND",
                                             help="The channel: x, facebook, email, api, ...")],
           name: Annotated[str, typer.Option(metavar="NAME", help="A name for the agents.")],
           config: Annotated[str, typer.Option(
               metavar="JSON", help="The account's configuration and credentials, a JSON "
                                    "object (the provider's own key names).")] = "{}",
           workspace: WorkspaceOption = None) -> None:
    """Connect a channel account; prints its id and webhook path."""
    from threadline.adapters.config import config_check
    from threadline.channels.registry import kinds
    from threadline.ingest.polling import schedule_poll
    from threadline.workspace.service import create_channel_account, webhook_path

    try:
        cfg = json.loads(config)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--config") from None
    if not isinstance(cfg, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--config")
    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            account = create_channel_account(session, ws, kind=kind, name=name, config=cfg,
                                             known_kinds=kinds(),
                                             check_config=config_check(rt.settings))
            schedule_poll(session, account)  # polling accounts start polling
            out = {"id": str(account.id), "kind": kind, "name": name,
                   "webhook_path": webhook_path(account)}
    finally:
        rt.close()
    print_json(out)


@app.command("list", cls=PlainCommand)
def list_accounts(workspace: WorkspaceOption = None, as_json: JsonFlag = False) -> None:
    """List the workspace's channel accounts (never their credentials)."""
    from threadline.workspace.service import list_channel_accounts, webhook_path

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session(write=False) as session:
            rows = [{"id": str(a.id), "kind": a.kind, "name": a.name, "active": a.active,
                     "webhook_path": webhook_path(a), "created_at": a.created_at}
                    for a in list_channel_accounts(session, ws)]
    finally:
        rt.close()
    print_rows(rows, ["id", "kind", "name", "active", "webhook_path", "created_at"],
               as_json=as_json)


def _set_active(account_id: uuid.UUID, workspace: str | None, active: bool) -> None:
    from threadline.ingest.polling import schedule_poll
    from threadline.workspace.admin import set_channel_account_active

    rt = runtime()
    try:
        ws = workspace_id(rt, workspace)
        with rt.db.session() as session:
            account = set_channel_account_active(session, ws, account_id, active,
                                                 actor_type="system", actor_id="cli")
            schedule_poll(session, account)  # an enabled polling account polls again
            out: dict[str, Any] = {"id": str(account.id), "kind": account.kind,
                                   "name": account.name, "active": account.active}
    finally:
        rt.close()
    print_json(out)


@app.command("disable", cls=PlainCommand)
def disable(account_id: AccountId, workspace: WorkspaceOption = None) -> None:
    """Disable a channel account: its webhooks are refused (nothing stored), it is no
    longer polled, replies through it are refused and its queued sends fail."""
    _set_active(account_id, workspace, False)


@app.command("enable", cls=PlainCommand)
def enable(account_id: AccountId, workspace: WorkspaceOption = None) -> None:
    """Enable a disabled channel account again."""
    _set_active(account_id, workspace, True)
