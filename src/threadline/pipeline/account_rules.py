"""What a channel account's configuration may say, checked when it is saved.

The adapters hold the rules (`check_config`: official provider hosts, public endpoints);
this module turns the operator's settings into a `UrlPolicy` and a refusal into a typed 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from threadline.channels.base import ChannelError, UrlPolicy
from threadline.channels.registry import get_adapter, kinds
from threadline.config import Settings
from threadline.errors import ValidationFailed

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
