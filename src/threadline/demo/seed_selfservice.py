"""Demo self-service bot: switched on for the demo's web chat (the bot's default: web chat on,
Messenger, WhatsApp and Telegram off), at the shipped threshold, so a visitor asking "where
is my order?" gets the help centre's answer and "Talk to a person". Idempotent: a workspace
whose bot settings were saved is left alone."""

from __future__ import annotations

import uuid

from threadline.conversations.service import SYSTEM
from threadline.jobs.runtime import Runtime
from threadline.selfservice.service import save_settings
from threadline.selfservice.settings import SETTING, SelfServiceSettings
from threadline.workspace.service import access_workspace


def seed_selfservice(runtime: Runtime, workspace_id: uuid.UUID) -> None:
    with runtime.db.session() as session:
        if SETTING in (access_workspace(session, workspace_id).settings or {}):
            return
        save_settings(session, workspace_id, SelfServiceSettings(enabled=True), SYSTEM)
