"""The workspace's self-service settings (`Workspace.settings["selfservice"]`): whether the
bot answers at all, on which channel accounts (web chat on unless switched off; Messenger,
WhatsApp and Telegram off unless switched on), the confidence it needs to answer, and how long
an answer waits for the customer before it counts as a deflection. Validated as the API body
and the settings form; stored as JSON."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator
from sqlalchemy.orm import Session

from threadline.conversations.service import Actor
from threadline.events.service import audit
from threadline.workspace.models import ChannelAccount
from threadline.workspace.service import read_setting, write_setting

SETTING = "selfservice"
# Chosen on the bench's development split (docs/self-service.md#the-threshold): the highest
# coverage with at most 1 % of answerable questions answered wrongly.
DEFAULT_THRESHOLD = 0.5
WEBCHAT = "webchat"
# where the bot may answer: private channels with a conversation it can hold; quick replies
# where the channel has them (csat/rules.py: the same channels)
BOT_KINDS = frozenset({"webchat", "messenger", "facebook", "whatsapp", "telegram"})
ON_BY_DEFAULT = frozenset({WEBCHAT})
MAX_ACCOUNTS = 200


class SelfServiceSettings(BaseModel):
    """Off by default: a workspace turns the bot on (docs/self-service.md#settings)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: StrictBool = False
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.05, le=1.0)
    deflect_after_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)
    # channel account id -> on/off (accounts not listed: web chat on, the others off)
    accounts: dict[str, bool] = Field(default_factory=dict, max_length=MAX_ACCOUNTS)

    @field_validator("accounts")
    @classmethod
    def _ids(cls, value: dict[str, bool]) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for key, on in value.items():
            try:
                out[str(uuid.UUID(key))] = on
            except ValueError:
                raise ValueError(f"not a channel account id: {key[:40]!r}") from None
        return out

    def answers_on(self, account: ChannelAccount) -> bool:
        """Does the bot answer customers who write to this account?"""
        if not self.enabled or account.kind not in BOT_KINDS or not account.active:
            return False
        return self.accounts.get(str(account.id), account.kind in ON_BY_DEFAULT)


def selfservice_settings(session: Session, workspace_id: uuid.UUID) -> SelfServiceSettings:
    # saved by an older version and unreadable: the bot stays off until saved again
    return read_setting(session, workspace_id, SETTING, SelfServiceSettings,
                        unreadable=SelfServiceSettings(enabled=False))


def set_selfservice_settings(session: Session, workspace_id: uuid.UUID,
                             value: SelfServiceSettings, actor: Actor) -> SelfServiceSettings:
    """Save the settings (the caller has checked the accounts named are the workspace's)."""
    data = write_setting(session, workspace_id, SETTING, value)
    audit(session, workspace_id, "workspace.selfservice_settings_set", "workspace",
          workspace_id, actor_type=actor.type, actor_id=actor.id, data=data)
    return value
