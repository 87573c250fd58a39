"""Category, public/private suitability, urgency and relevance rules (customer-care lexicons)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from threadline.triage.sentiment import SentimentSignals


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])")


TECHNICAL = _words(
    r"app",
    r"apps",
    r"website",
    r"site",
    r"log ?in",
    r"sign ?in",
    r"password",
    r"error",
    r"bug(?:s|gy)?",
    r"crash(?:es|ed|ing)?",
    r"update[sd]?",
    r"install(?:ed|ing)?",
    r"download(?:s|ed)?",
    r"battery",
    r"screen",
    r"wi-?fi",
    r"bluetooth",
    r"connect(?:ion|ed|ing)?",
    r"sync(?:ing)?",
    r"load(?:ing)?",
    r"server",
    r"outage",
    r"offline",
    r"reboot",
    r"restart",
    r"reset",
    r"device",
    r"iphone",
    r"ipad",
    r"mac(?:book)?",
    r"laptop",
    r"android",
    r"ios",
    r"browser",
    r"stream(?:ing)?",
    r"buffering",
    r"glitch(?:es|y)?",
    r"freez(?:es|ing)",
    r"froze",
    r"frozen",
    r"not working",
    r"stopped working",
    r"won't (?:load|open|work|turn on|connect|play)",
    r"keeps? (?:crashing|freezing|logging)",
    r"settings",
    r"version",
    r"software",
    r"firmware",
    r"router",
    r"modem",
    r"signal",
    r"network",
    r"internet",
    r"data",
    r"icloud",
    r"itunes",
    r"alexa",
    r"echo",
    r"kindle",
    r"playlist",
    r"shuffle",
    r"offline mode",
    r"notifications?",
)
SUGGESTION = _words(
    r"suggest(?:ion|ions)?",
    r"feature(?: request)?",
    r"would be (?:nice|great|cool|good|awesome)",
    r"should (?:add|have|be able|let|make|bring)",
    r"please add",
    r"i wish",
    r"wish you",
    r"idea",
    r"feedback",
    r"review",
    r"consider",
    r"improve(?:ment)?",
    r"bring back",
    r"option to",
    r"why not",
    r"it'd be",
    r"could you add",
    r"you guys should",
)
ANGER = _words(
    r"worst",
    r"ridiculous",
    r"unacceptable",
    r"disgust(?:ed|ing)",
    r"pathetic",
    r"furious",
    r"outrageous",
    r"terrible",
    r"horrible",
    r"awful",
    r"useless",
    r"joke",
    r"shame(?:ful)?",
    r"wtf",
    r"fuck\w*",
    r"shit\w*",
    r"damn",
    r"sucks?",
    r"hate",
    r"never again",
    r"rude",
    r"scam",
    r"incompetent",
    r"appalling",
    r"disgrace(?:ful)?",
)
PRIVATE_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "booking",
        _words(
            r"booking",
            r"reservation",
            r"rebook(?:ed|ing)?",
            r"change my (?:flight|seat|booking|ticket)",
            r"my (?:flight|seat|ticket) (?:change|number)",
            r"upgrade my",
            r"confirmation (?:code|number)",
        ),
    ),
    (
        "billing",
        _words(
            r"billing",
            r"bill(?:ed)?",
            r"charged?",
            r"charging",
            r"invoice",
            r"payment",
            r"refund(?:ed)?",
            r"overcharged",
            r"subscription",
            r"card",
            r"bank",
            r"money back",
            r"compensation",
            r"voucher",
        ),
    ),
    (
        "account",
        _words(
            r"my account",
            r"account (?:locked|hacked|suspended|details|number)",
            r"password",
            r"log ?in",
            r"sign ?in",
            r"verify",
            r"verification",
            r"hacked",
            r"delete my",
            r"personal (?:details|information|data)",
            r"my (?:address|email|phone number|details)",
        ),
    ),
    (
        "order",
        _words(
            r"my order",
            r"order (?:number|#|no)",
            r"my (?:package|parcel|delivery|shipment|return)",
            r"tracking number",
            r"replacement",
            r"claim",
        ),
    ),
)
URGENCY: tuple[tuple[float, re.Pattern[str]], ...] = (
    (
        0.55,
        _words(
            r"outage",
            r"(?:is|are|site|app|service|server|network) down",
            r"not working",
            r"can't access",
            r"cannot access",
            r"offline",
            r"no (?:service|signal|internet|power)",
        ),
    ),
    (
        0.8,
        _words(
            r"unsafe",
            r"danger(?:ous)?",
            r"fire",
            r"smoke",
            r"injur(?:ed|y)",
            r"hurt",
            r"emergency",
            r"ambulance",
            r"police",
            r"allergic reaction",
            r"gas leak",
            r"carbon monoxide",
            r"stranded",
            r"hospital",
            r"bleeding",
            r"threat(?:en|ened)?",
            r"suicid\w*",
            r"self[- ]harm",
        ),
    ),
    (
        0.4,
        _words(
            r"again",
            r"still",
            r"(?:second|third|fourth|2nd|3rd|4th|fifth|5th) time",
            r"multiple times",
            r"keep (?:calling|asking|trying)",
            r"already (?:called|contacted|tweeted|emailed|dm'?d|messaged)",
            r"no (?:response|reply|answer)",
            r"for (?:days|weeks|hours)",
            r"\d+ (?:days|weeks|hours|hrs)",
        ),
    ),
    (
        0.45,
        _words(
            r"asap",
            r"urgent(?:ly)?",
            r"immediately",
            r"right now",
            r"today",
            r"tonight",
            r"boarding",
            r"(?:flight|train) (?:leaves|departs)",
            r"in (?:an|one|1|2|two) hours?",
            r"missed (?:my )?(?:flight|connection)",
            r"deadline",
        ),
    ),
)

_DIRECT_CHANNELS = frozenset(
    {"dm", "direct", "email", "whatsapp", "messenger", "sms", "chat", "telegram", "voice", "form"}
)
_HANDLE = re.compile(r"(?<![\w@])@(\w{1,50})")


def category_scores(
    low: str, sig: SentimentSignals, sentiment: str, score: float
) -> dict[str, float]:
    """Scores per category in [0, 1]; the caller takes the largest."""
    tech = len(TECHNICAL.findall(low))
    suggest = len(SUGGESTION.findall(low))
    anger = len(ANGER.findall(low))
    neg = max(0.0, -score)
    pos = max(0.0, score)
    scores = {
        "complaint": (0.45 + 0.35 * neg + 0.12 * min(anger, 2)) if sentiment == "negative" else 0.0,
        "technical": (0.4 + 0.08 * min(tech, 3) + (0.1 if sig.problems else 0.0))
        if tech and (sig.problems or sig.question)
        else 0.0,
        "feedback": 0.5 + 0.1 * min(suggest, 2) if suggest else 0.25,
        "question": 0.55 if sig.question else 0.3,
        "praise": (0.5 + 0.4 * pos) if sentiment == "positive" else 0.0,
    }
    if suggest:  # a suggestion is feedback even when it is worded kindly or crossly
        scores["praise"] *= 0.7
        scores["complaint"] *= 0.85 if not anger else 1.0
    if sentiment == "negative" and (anger or neg >= 0.6):
        scores["technical"] *= 0.7
    if sig.question and sentiment == "negative" and not anger and neg < 0.5:
        scores["question"] = max(scores["question"], scores["complaint"] - 0.02)
    if sig.question and sentiment == "positive" and not suggest:
        scores["question"] = max(scores["question"], scores["praise"] + 0.02)
    return scores


def private_reasons(low: str, has_pii: bool) -> list[str]:
    reasons = [name for name, pattern in PRIVATE_TOPICS if pattern.search(low)]
    if has_pii:
        reasons.insert(0, "personal_data")
    return reasons


def urgency(low: str, text: str, sig: SentimentSignals) -> float:
    keep = 1.0
    for weight, pattern in URGENCY:
        if pattern.search(low):
            keep *= 1.0 - weight
    letters = sum(map(str.isalpha, text))  # C-level loops: this runs on every message
    if letters >= 12 and sum(map(str.isupper, text)) / letters > 0.6:
        keep *= 0.7
    if "!!" in text:
        keep *= 0.85
    if ANGER.search(low):
        keep *= 0.8
    keep *= 1.0 - 0.25 * max(0.0, -sig.compound)
    return round(1.0 - keep, 4)


def relevance(
    text: str,
    *,
    channel: str | None,
    visibility: str,
    brand_handles: Sequence[str],
    competitor_handles: Sequence[str],
    needs_answer: bool,
    is_question: bool,
) -> tuple[str, float]:
    """("direct" | "mention" | "competitor" | "chatter", score); direct questions rank first."""
    handles = [h.lower() for h in _HANDLE.findall(text)]
    brands = {h.lower().lstrip("@") for h in brand_handles}
    competitors = {h.lower().lstrip("@") for h in competitor_handles}
    to_brand = any(h in brands for h in handles)
    to_competitor = any(h in competitors for h in handles)
    private = visibility != "public" or (channel or "").lower() in _DIRECT_CHANNELS
    lead = text.lstrip()
    addressed = to_brand and (
        (lead.startswith("@") and any(lead[1:].lower().startswith(b) for b in brands))
        or needs_answer
    )
    if private or addressed or (not brands and needs_answer):
        base = 0.9 if is_question else 0.8 if needs_answer else 0.65
        return "direct", base + (0.1 if is_question and needs_answer else 0.0)
    if to_brand:
        return "mention", 0.5 if needs_answer else 0.35
    if to_competitor:
        return "competitor", 0.3
    return "chatter", 0.1 if not needs_answer else 0.2
