"""Pure rules of the self-service bot: what a customer's message means to it (a request for a
person, a "yes, that helped", a sign of frustration), the choices it offers and the ids a tap
on them brings back, and what it says.

A tap brings back `selfservice:<verb>:<answer message id hex>` (51 bytes: fits Telegram's
64-byte callback data). The id names the bot's answer the choice was offered under; a tap is
believed only when that answer is the bot's, in the same conversation (`bot.py` checks).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "selfservice:"
YES = "yes"
PERSON = "person"
VERBS = (YES, PERSON)
YES_TITLE = "Yes, thanks"
PERSON_TITLE = "Talk to a person"
QUESTION = "Was this what you needed?"
_CHOICE = re.compile(r"^selfservice:(yes|person):([0-9a-f]{32})$")


def choice_id(verb: str, answer_id: uuid.UUID) -> str:
    return f"{PREFIX}{verb}:{answer_id.hex}"


def choices(answer_id: uuid.UUID) -> list[dict[str, str]]:
    return [{"id": choice_id(YES, answer_id), "title": YES_TITLE},
            {"id": choice_id(PERSON, answer_id), "title": PERSON_TITLE}]


@dataclass(frozen=True)
class Tap:
    verb: str
    answer_id: uuid.UUID


def tapped(meta: Mapping[str, Any]) -> Tap | None:
    """The bot's choice a tap carries (a Messenger quick-reply or postback payload, a
    WhatsApp reply id, a Telegram callback), or None (not a tap, another flow's, or not well
    formed: a forged payload is only text)."""
    quick = meta.get("quick_reply")
    candidates = [quick.get("payload") if isinstance(quick, Mapping) else None,
                  meta.get("postback_payload"), meta.get("reply_id"), meta.get("callback_data")]
    for value in candidates:
        if isinstance(value, str) and value.startswith(PREFIX):
            found = _CHOICE.match(value)
            return Tap(found.group(1), uuid.UUID(found.group(2))) if found else None
    return None


# --- words ------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s']", " ", folded).split())


# A person, in the main languages (accents folded): English, Spanish, French, German,
# Portuguese, Italian, Dutch.
_PERSON = re.compile(r"""\b(
    (talk|speak|chat|connect|contact|reach|call|phone|transfer|put\ me\ through|get\ me|
     give\ me|want|need|like|have|ask|see|switch\ me|pass\ me|assign\ me|prefer|
     communicat|escalat)\w*\b[\w\s']{0,40}?\b
    (human|person|people|agent|agents|representative|rep|operator|somebody|someone|anyone|
     anybody|real\ person|live\ person|live\ agent|real\ human|staff|employee|manager|
     supervisor|advisor|adviser|assistant|consultant)s?\b(?!')
  | ^(a\ )?(human|person|agent|operator|representative|someone|somebody)(\ please)?$
  | \b(human|person|agent|operator|representative)\ please\b
  | \b(not\ a|no|stop\ the|enough\ of\ the|you\ are\ a|useless)\ (bot|robot|machine)\b
  | \bare\ you\ (a\ )?(bot|robot|human|real)\b
  | \b(hablar|habla|hable|quiero|necesito|pasame|paseme|comunicar(me)?)\b[\w\s]{0,30}
    \b(persona|humano|agente|operador|asesor|representante|alguien)\b
  | \b(parler|veux|voudrais|besoin|passer|joindre)\b[\w\s']{0,30}
    \b(personne|humain|agent|conseiller|conseillere|operateur|quelqu'un)\b
  | \b(sprechen|mochte|will|brauche|verbinden)\b[\w\s]{0,30}
    \b(mensch|menschen|mitarbeiter|mitarbeiterin|berater|beraterin|person|agenten)\b
  | \b(mit\ (einem|einer)\ (menschen|mitarbeiter|mitarbeiterin|person))\b
  | \b(falar|quero|preciso)\b[\w\s]{0,30}\b(pessoa|humano|atendente|agente|alguem)\b
  | \b(parlare|voglio|vorrei|bisogno)\b[\w\s']{0,30}\b(persona|umano|operatore|operatrice)\b
  | \b(spreken|wil|praten)\b[\w\s]{0,30}\b(mens|medewerker|persoon|iemand)\b
)""", re.VERBOSE)

_CONFIRM = re.compile(r"""^(
    yes|yep|yeah|yup|y|ok|okay|perfect|great|thanks|thank\ you|thank\ u|thx|ty|cheers|
    solved|sorted|that\ helped|that\ helps|it\ helped|it\ worked|that\ worked|got\ it|
    si|gracias|oui|merci|ja|danke|sim|obrigad[oa]|grazie|dank\ je|bedankt
)(\s+(yes|thanks|thank\ you|a\ lot|so\ much|very\ much|that\ helped|it\ helped|it\ works|
    that's\ it|that\ is\ it|perfect|great|muchas|merci|beaucoup|danke|sehr|mille))*$""",
                      re.VERBOSE)

# Words of a complaint or of frustration the triage lexicon may weigh too lightly in a short
# chat message.
_FRUSTRATED = re.compile(r"""\b(
    complain\w*|claim|claims|unacceptable|ridiculous|disgusting|disgraceful|furious|
    angry|fed\ up|sick\ of|tired\ of|worst|terrible|horrible|awful|useless|pathetic|scam|
    lawyer|lawsuit|sue|ombudsman|reclamo|reclamacion|queja|plainte|reclamation|beschwerde|
    reclamacao|reclamo|lamentela|klacht
)\b""", re.VERBOSE)


def asks_for_person(text: str) -> bool:
    return bool(_PERSON.search(_plain(text)))


def confirms(text: str) -> bool:
    """A short "yes, thanks" after an answer (a longer message is a new message)."""
    plain = _plain(text)
    return len(plain) <= 60 and bool(_CONFIRM.match(plain))


def frustrated(text: str, triage: Mapping[str, Any] | None) -> bool:
    """A complaint or frustration, by the triage annotations the inbound path computed
    (category, complaint score, a clearly negative sentiment) or by the words above; shouting
    in capitals and runs of "!!" or "??" count too."""
    triage = triage or {}
    score = triage.get("complaint_score")
    if (triage.get("category") == "complaint" and isinstance(score, int | float)
            and score >= COMPLAINT_SCORE):
        return True
    sentiment = triage.get("sentiment_score")
    if (triage.get("sentiment") == "negative" and isinstance(sentiment, int | float)
            and sentiment <= NEGATIVE_SENTIMENT):
        return True
    if _FRUSTRATED.search(_plain(text)):
        return True
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    return shouting or "!!!" in text or "???" in text or "?!" in text


# Stricter than triage's own complaint mark (0.5): in a one-line chat question "cancel my
# order" scores 0.6 there (chosen on the bench's development split: docs/self-service.md).
COMPLAINT_SCORE = 0.8
NEGATIVE_SENTIMENT = -0.85


# --- what the bot says ------------------------------------------------------------------------

MAX_EXCERPT = 600


def excerpt(body: str, limit: int = MAX_EXCERPT) -> str:
    """The answer's text from an article's Markdown: its first paragraphs, plain, cut at a
    sentence or word boundary."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", body)  # images
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)  # links: their words
    text = re.sub(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+", "", text, flags=re.MULTILINE)
    text = re.sub(r"[*_`~]{1,3}", "", text)
    text = re.sub(r"<[^>]{0,200}>", "", text)  # stray HTML: never rendered, never sent
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
    out = ""
    for paragraph in paragraphs:
        candidate = f"{out}\n\n{paragraph}" if out else paragraph
        if len(candidate) > limit:
            break
        out = candidate
    if not out and paragraphs:
        cut = paragraphs[0][:limit]
        stop = max(cut.rfind(". "), cut.rfind(" "))
        out = (cut[:stop + 1] if stop > limit // 2 else cut).rstrip() + "…"
    return out


def answer_text(title: str, body: str, url: str | None, with_choices: bool) -> str:
    """The bot's answer: the article's title and answer, its link, and the question (whose
    choices travel beside it where the channel has quick replies)."""
    parts = [title.strip(), excerpt(body)]
    if url:
        parts.append(f"Read more: {url}")
    parts.append(QUESTION if with_choices else
                 f"{QUESTION} Reply \"yes\", or \"person\" to talk to a person.")
    return "\n\n".join(p for p in parts if p)


HANDOVER_TEXT = "I'm passing you to a person on our team, who will answer here."


def closed_text(opens_at_local: str) -> str:
    return (f"Our team is away right now. A person will answer here from {opens_at_local}. "
            "Your message is in our queue, so you won't need to repeat it.")
