"""Pure logic of listening: rule validation, the recent-search query, matching and the noise
filter's classification. No database, no I/O (service.py and intercept.py hold those).

Rule values are validated to a small alphabet (letters, digits, spaces and `-'&._` for words;
`[A-Za-z0-9_]` for hashtags and handles), so a rule can never carry a search operator, a quote
or a bracket into the provider's query, and matching uses escaped literals only (no rule is
ever a regular expression).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from threadline.errors import ValidationFailed
from threadline.listening.models import NoiseReason, RuleKind

MAX_RULES = 50
MAX_VALUE = 60
MAX_QUERY = 512  # X recent search (basic access); channels/x/search.py checks it too
RESERVED = {"or", "and", "not"}  # search operators, never a keyword
_WORD_CHARS = re.compile(r"^[\w\s\-'&.]+$", re.UNICODE)
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_HASHTAG = re.compile(r"^\w{1,60}$", re.UNICODE)
_SPACES = re.compile(r"\s+")

KIND_LABELS = {
    RuleKind.KEYWORD: "Keyword",
    RuleKind.HASHTAG: "Hashtag",
    RuleKind.BRAND_NAME: "Brand name (without @)",
    RuleKind.COMPETITOR_HANDLE: "Competitor's handle",
    RuleKind.COMPETITOR_NAME: "Competitor's name",
}


@dataclass(frozen=True)
class Rule:
    kind: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


def _bad(message: str, where: str, code: str = "bad_listening_rule") -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"field": where})


def normalise_rule(kind: Any, value: Any, where: str = "rules.0") -> Rule:
    """One rule, checked and normalised (lower case, no leading @ or #, single spaces); a
    refusal is a 422 naming `<where>.kind` or `<where>.value`."""
    if not isinstance(kind, str) or kind not in RuleKind.ALL:
        raise _bad(f"kind must be one of {', '.join(RuleKind.ALL)}", f"{where}.kind")
    if not isinstance(value, str):
        raise _bad("value must be text", f"{where}.value")
    raw = _SPACES.sub(" ", value).strip()
    if len(raw) > MAX_VALUE:
        raise _bad(f"a rule has at most {MAX_VALUE} characters", f"{where}.value")
    if kind == RuleKind.BRAND_NAME and raw.startswith("@"):
        raise _bad("a brand name is written without @ (the account's own handle is known "
                   "already)", f"{where}.value")
    if kind == RuleKind.COMPETITOR_HANDLE:
        raw = raw.removeprefix("@")
        if not _HANDLE.match(raw):
            raise _bad("a handle has 1 to 15 letters, digits or underscores", f"{where}.value")
    elif kind == RuleKind.HASHTAG:
        raw = raw.removeprefix("#")
        if not _HASHTAG.match(raw):
            raise _bad("a hashtag has 1 to 60 letters, digits or underscores",
                       f"{where}.value")
    else:
        if len(raw) < 2 or not _WORD_CHARS.match(raw) or not any(c.isalnum() for c in raw):
            raise _bad("a keyword or name has 2 to 60 letters, digits, spaces or - ' & . _ "
                       "(no quotes, brackets or search operators)", f"{where}.value")
        if raw.lower() in RESERVED:
            raise _bad(f"{raw!r} is a search operator, not a keyword", f"{where}.value")
    return Rule(kind, raw.lower())


def normalise_rules(items: Sequence[Mapping[str, Any]]) -> list[Rule]:
    """A whole rule set (what a save replaces): every rule checked, duplicates dropped, the
    count and the provider query's length bounded. Nothing is stored on a refusal."""
    if len(items) > MAX_RULES:
        raise _bad(f"at most {MAX_RULES} listening rules", "rules")
    out: dict[str, Rule] = {}
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise _bad("a rule is an object with kind and value", f"rules.{i}")
        rule = normalise_rule(item.get("kind"), item.get("value"), f"rules.{i}")
        out.setdefault(rule.key, rule)
    rules = list(out.values())
    if len(search_query(rules)) > MAX_QUERY:
        raise _bad(f"the rules make a search query longer than {MAX_QUERY} characters, the "
                   "provider's limit: remove some", "rules", code="listening_query_too_long")
    return rules


# --- the provider's query ------------------------------------------------------------------


def _phrase(value: str) -> str:
    return f'"{value}"' if " " in value else value


def search_query(rules: Iterable[Rule]) -> str:
    """The X recent-search query of a rule set ('' when nothing to search). Competitors'
    handles bring their mentions, their replies to them and their own posts (so a visible
    answer from the competitor is seen); retweets are left out at the source."""
    terms: list[str] = []
    for rule in rules:
        if rule.kind == RuleKind.HASHTAG:
            terms.append(f"#{rule.value}")
        elif rule.kind == RuleKind.COMPETITOR_HANDLE:
            terms += [f"@{rule.value}", f"from:{rule.value}", f"to:{rule.value}"]
        else:
            terms.append(_phrase(rule.value))
    if not terms:
        return ""
    return f"({' OR '.join(terms)}) -is:retweet"


# --- matching ------------------------------------------------------------------------------


def _word(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@#]){re.escape(value)}(?!\w)", re.IGNORECASE)


@dataclass
class RuleSet:
    """A workspace's rules, compiled once (escaped literals, never the user's patterns)."""

    rules: list[Rule]
    patterns: list[tuple[Rule, re.Pattern[str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for rule in self.rules:
            if rule.kind == RuleKind.HASHTAG:
                pattern = re.compile(rf"#{re.escape(rule.value)}(?!\w)", re.IGNORECASE)
            elif rule.kind == RuleKind.COMPETITOR_HANDLE:
                pattern = re.compile(rf"@{re.escape(rule.value)}(?!\w)", re.IGNORECASE)
            else:
                pattern = _word(rule.value)
            self.patterns.append((rule, pattern))

    def of(self, kind: str) -> list[str]:
        return [r.value for r in self.rules if r.kind == kind]

    def match(self, text: str, author_handle: str | None = None,
              replied_handle: str | None = None) -> list[Rule]:
        """The rules a post matches: its words, or for a competitor's handle, a post by the
        competitor or in reply to it."""
        author = (author_handle or "").lower().lstrip("@")
        replied = (replied_handle or "").lower().lstrip("@")
        found: list[Rule] = []
        for rule, pattern in self.patterns:
            if pattern.search(text) or (rule.kind == RuleKind.COMPETITOR_HANDLE
                                        and rule.value in (author, replied)):
                found.append(rule)
        return found

    def competitor_of(self, matched: Sequence[Rule]) -> str | None:
        """The competitor a post is to or about (its handle, else its name)."""
        for kind in (RuleKind.COMPETITOR_HANDLE, RuleKind.COMPETITOR_NAME):
            for rule in matched:
                if rule.kind == kind:
                    return rule.value
        return None

    def is_competitor(self, handle: str | None) -> bool:
        return (handle or "").lower().lstrip("@") in self.of(RuleKind.COMPETITOR_HANDLE)


# --- noise ---------------------------------------------------------------------------------

_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w{1,15}")
# strong markers: a promotion's own words; weak ones also occur in customers' complaints
_PROMO_STRONG = [re.compile(p, re.IGNORECASE) for p in (
    r"\bgive ?away\b", r"\bpromo ?codes?\b", r"\buse (my |the |our )?code\b",
    r"\bdiscount codes?\b", r"\bsponsored\b", r"\bsweepstakes?\b",
    r"(?<!\w)#(ad|sponsored|promo|giveaway|contest)\b", r"\bfollow (and|&|\+) (rt|retweet)\b",
    r"\bshop now\b", r"\bbuy now\b", r"\blimited[- ]time (offer|deal|only)\b")]
_PROMO_WEAK = [re.compile(p, re.IGNORECASE) for p in (
    r"\b\d{1,2} ?% off\b", r"\bcoupons?\b", r"\bfree shipping\b", r"\bwin an? \w+",
    r"\baffiliate\b", r"\bclick the link\b", r"\bsign up today\b", r"\bbest deals?\b",
    r"\bonly \$\d+")]
_SPAM = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(crypto|bitcoin|btc|nft|airdrop|forex)\b.*\b(dm me|whatsapp|telegram|profit|invest)",
    r"\bearn \$?\d+k? (a|per) (day|week|hour)\b", r"\bget (rich|paid) (fast|quick)\b",
    r"\b(followers|likes) (for sale|cheap)\b", r"\bbuy (cheap )?(followers|likes)\b",
    r"\bwork from home\b.*\b(dm|link|\$)", r"\bcheck my (bio|profile)\b.*\b(money|earn|\$)")]


@dataclass(frozen=True)
class NoiseInput:
    """What the filter reads of a public post (built from an InboundMessage)."""

    text: str
    meta: Mapping[str, Any]
    own_user_id: str | None = None  # the account's own id at the provider
    brand_handles: Sequence[str] = ()  # the account's handles (config `brand_handles`)
    brand_names: Sequence[str] = ()  # listening rules: the brand's names


def noise_reason(post: NoiseInput, *, all_reasons: bool = True) -> str | None:
    """Why a public post is noise (NoiseReason), or None. `all_reasons=False` (the
    workspace switched the filter off) still keeps retweets out: they have no words of
    their own and were never threaded."""
    text = post.text or ""
    if post.meta.get("retweet_of") is not None or text.startswith("RT @"):
        return NoiseReason.RETWEET
    if not all_reasons:
        return None
    if any(p.search(text) for p in _SPAM):
        return NoiseReason.SPAM
    strong = sum(1 for p in _PROMO_STRONG if p.search(text))
    weak = sum(1 for p in _PROMO_WEAK if p.search(text))
    if strong >= 2 or (strong and (weak or _URL.search(text))):
        return NoiseReason.PROMOTION
    if _not_for_brand(post):
        return NoiseReason.NOT_FOR_BRAND
    return None


def _not_for_brand(post: NoiseInput) -> bool:
    """A reply to someone else in a public thread that names the brand nowhere (X tells
    whom a reply answers: `in_reply_to_user_id`)."""
    replied = post.meta.get("in_reply_to_user_id")
    if not replied or not post.own_user_id or str(replied) == str(post.own_user_id):
        return False
    low = post.text.lower()
    handles = {h.lower().lstrip("@") for h in post.brand_handles if h}
    if not handles and not any(post.brand_names):
        return False  # nothing says what the brand is called: cannot tell
    if any(m.lower().lstrip("@") in handles for m in _MENTION.findall(post.text)):
        return False
    return not any(_word(name).search(low) for name in post.brand_names if name)
