"""The languages an article may be written in: ISO 639-1 codes, optionally with a region
("en", "pt-BR"). A tag outside this list is refused (a typed 422), so the help centre's
language paths stay a closed, known set."""

from __future__ import annotations

import re

_CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1 = frozenset(_CODES.split())

NAMES = {
    "en": "English", "es": "Español", "fr": "Français", "de": "Deutsch", "pt": "Português",
    "it": "Italiano", "nl": "Nederlands", "ja": "日本語", "zh": "中文", "ar": "العربية",
    "ru": "Русский", "pl": "Polski", "tr": "Türkçe", "sv": "Svenska", "ko": "한국어",
}

_TAG = re.compile(r"^([a-z]{2})(?:-([A-Z]{2}|[0-9]{3}))?$")


def normalise(tag: str) -> str | None:
    """The canonical form of a language tag ("pt-br" -> "pt-BR"), or None when unknown."""
    raw = tag.strip()
    if "-" in raw:
        base, _, region = raw.partition("-")
        raw = f"{base.lower()}-{region.upper()}"
    else:
        raw = raw.lower()
    match = _TAG.match(raw)
    if match is None or match.group(1) not in ISO_639_1:
        return None
    return raw


def name_of(tag: str) -> str:
    return NAMES.get(tag.split("-")[0], tag)
