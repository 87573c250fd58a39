"""Health information: conditions, medications and health-plan member ids about a person."""

from __future__ import annotations

import re
from collections.abc import Iterator

from threadline.triage.budget import bounded_scan, folded
from threadline.triage.types import PiiFinding

_CONDITIONS = (
    r"diabet(?:es|ic)|asthma(?:tic)?|cancer|leukemia|leukaemia|tumou?r|chemo(?:therapy)?|"
    r"hiv|epilep(?:sy|tic)|seizures?|depression|anxiety\s+disorder|bipolar|schizophreni[ac]|"
    r"pregnan(?:t|cy)|miscarriage|dementia|alzheimer'?s|parkinson'?s|autis(?:m|tic)|adhd|ptsd|"
    r"hepatitis|tuberculosis|crohn'?s|c[oe]liac|multiple\s+sclerosis|cystic\s+fibrosis|"
    r"heart\s+(?:attack|condition|disease|failure)|stroke|kidney\s+(?:disease|failure)|dialysis|"
    r"arthritis|lupus|fibromyalgia|migraines?|covid(?:-19)?|allerg(?:y|ic)\s+to\s+\w+|"
    r"disabilit(?:y|ies)|wheelchair\s+user|blind|deaf|surgery|anorexi[ac]|bulimi[ac]|"
    r"ocd|eating\s+disorder|mental\s+illness|std|sti"
)
_MEDICATIONS = (
    r"insulin|metformin|inhaler|epipen|antidepressants?|prozac|xanax|sertraline|zoloft|"
    r"fluoxetine|citalopram|lithium|methadone|oxycodone|morphine|adderall|ritalin|warfarin|"
    r"levothyroxine|prednisone|chemo\s+pills|prep|antiretrovirals?|statins?|opioids?|"
    r"my\s+(?:meds|medication|medications|prescription|prescriptions)"
)
_ABOUT_PERSON = (
    r"\b(?:i|i'm|im|i've|ive|my|me|mine|we|our|son|daughter|wife|husband|partner|mum|mom|dad|"
    r"mother|father|child|kid|baby|he|she|his|her|diagnosed|suffer(?:s|ing)?|living|"
    r"prescribed|taking|need|needs|on)\b"
)
# Lower-case patterns over lower-cased text: a case-blind alternation this long costs the engine
# ~3 us a character. _HEALTH runs over the ASCII-folded bytes (one byte per character, so the
# spans are the text's, see budget.folded).
_HEALTH = re.compile(
    (r"(?<![\w-])(?:" + _CONDITIONS + r"|" + _MEDICATIONS + r")(?![\w-])").encode()
)
_PERSON = re.compile(_ABOUT_PERSON)
_MEMBER_ID = re.compile(
    r"\b(?i:(?:health|insurance|medicare|medicaid|nhs|member|policy|patient)\s*"
    r"(?:id|number|no\.?|#)|nhs)\s*(?i:is|:|#)?\s*([A-Z0-9][A-Z0-9 -]{5,16}[A-Z0-9])\b"
)


def _conditions(text: str) -> Iterator[PiiFinding]:
    def check(m: re.Match[bytes]) -> PiiFinding | None:
        if _PERSON.search(text[max(0, m.start() - 40) : m.start()].lower()):
            return PiiFinding("MEDICAL", m.start(), m.end())
        return None

    yield from bounded_scan(_HEALTH, folded(text), "MEDICAL", check)


def _member_id(m: re.Match[str]) -> PiiFinding | None:
    if any(c.isdigit() for c in m.group(1)):
        return PiiFinding("MEDICAL", m.start(1), m.end(1))
    return None


def find_medical(text: str) -> Iterator[PiiFinding]:
    """Health conditions or medications said about a person, and health-plan member ids."""
    yield from _conditions(text)
    yield from bounded_scan(_MEMBER_ID, text, "MEDICAL", _member_id)
