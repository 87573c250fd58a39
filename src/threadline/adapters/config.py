"""A stored channel account as its channel adapter sees it.

`account_config` is the adapter's view of a `ChannelAccount` row (every flow that calls an
adapter goes through it). What an account's configuration may say is checked when it is
saved: the adapters hold the rules (`check_config`: official provider hosts, public
endpoints); this module turns the operator's settings into a `UrlPolicy` and a refusal into
a typed 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threadline.channels.base import AccountConfig, ChannelError, UrlPolicy
from threadline.channels.registry import get_adapter, kinds
from threadline.channels.urls import STRICT
from threadline.config import Settings
from threadline.errors import ValidationFailed
from threadline.workspace.models import ChannelAccount

ConfigCheck = Callable[[str, dict[str, Any]], None]


def url_policy(settings: Settings) -> UrlPolicy:
    return UrlPolicy(allow_custom=settings.allow_custom_provider_urls,
                     trusted_hosts=frozenset(h.strip().lower().rstrip(".")
                                             for h in settings.trusted_internal_hosts))


def config_check(settings: Settings) -> ConfigCheck:
    """A check for `workspace.service` create/update: ValidationFailed (422) on a refusal."""
    policy = url_policy(settings)

    def check(kind: str, config: dict[str, Any]) -> None:
        if kind not in kinds():
            return  # the service refuses unknown kinds itself
        try:
            get_adapter(kind).check_config(config, policy)
        except ChannelError as exc:
            raise ValidationFailed(exc.message, code=exc.code) from None

    return check


def account_config(account: ChannelAccount, settings: Settings | None = None) -> AccountConfig:
    """The adapter's view of an account; calls that carry credentials need `settings` (what
    the operator allows beyond official hosts), without them only official hosts are used."""
    return AccountConfig(id=str(account.id), kind=account.kind, name=account.name,
                         config=account.config or {},
                         urls=url_policy(settings) if settings is not None else STRICT)
