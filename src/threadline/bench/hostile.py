"""``threadline bench hostile --json``: the worst inputs we know for triage, each through the full
``analyze`` path the worker runs, timed over several repeats (the max is reported).

The budget is 50 ms a message on one core (docs/decisions/0101-bounded-analysis.md). ``--data``
is not read: every case is generated here.
"""

from __future__ import annotations

import gc
import os
import random
import time
from pathlib import Path
from typing import Any

from threadline.triage import analyze

BUDGET_MS = 50.0
REPEATS = 5
MIB = 1 << 20

_MIXED_PARTS = (
    "Flight delayed again, worst service ever. ", "mi vuelo fue cancelado, gracias por nada ",
    "航班延误了三个小时 ", "رحلتي متأخرة جدا ", "мой рейс отменён ", "荷物が届きません ",
    "😡🙏👨\u200d👩\u200d👧 ", "https://example.com/a/b?c=1&d=2 ", "www.acme.test/x/y ",
    "card 4111 1111 1111 1111 exp 12/29 ", "+44 7911 123456 ", "order 123456789 ",
    "@acmeair #fail #help ", "GB82 WEST 1234 5698 7654 32 ", "call (415) 555-0132 ",
    "2024-01-02 ", "maria@example.org ", "שלום \u202eעולם\u202c ", "12345678901234567890 ",
    "password: Hunter2! ", "my SSN is 123-45-6789 ", "cvv 123 ",
)


def mixed_text(size: int = MIB, seed: int = 10) -> str:
    """``size`` bytes (UTF-8) of several scripts, emoji, URLs, digits and card-like numbers."""
    rnd = random.Random(seed)
    out: list[str] = []
    used = 0
    while used < size:
        part = rnd.choice(_MIXED_PARTS)
        out.append(part)
        used += len(part.encode())
    return "".join(out)


def cases() -> dict[str, str]:
    """Name -> message text; every one of them has cost seconds or minutes at some point."""
    return {
        "emoji_10000": "😀" * 10_000,
        "emoji_mixed_10000": "".join(random.Random(1).choices("😀😡🙏👍😭💔🎉", k=10_000)),
        "mixed_1mib": mixed_text(),
        "repeated_char_100000": "a" * 100_000,
        "repeated_bang_100000": "!" * 100_000,
        "repeated_word_100000": "no " * 33_334,
        "urls_repeated": "https://t.co/abc123 " * 20_000,
        "urls_nested": "http://a.b/" * 20_000,
        "digit_run_100000": "1" * 100_000,
        "card_groups": "4111 " * 20_000,
        "cards_valid": "card 4111 1111 1111 1111 " * 4_000,
        "phones_international": "+1 (415) 555-0132 " * 5_000,
        "phones_plain": "call 415 555 0132, " * 5_000,
        "ibans": "GB82WEST12345698765432 " * 5_000,
        "ibans_unknown_country": "XX82WEST12345698765432ABCD " * 4_000,
        "nested_punctuation": "(" * 50_000 + ")" * 50_000,
        "punctuation_mix": "!?.,;:-" * 15_000,
        "mixed_direction": "שלום hello مرحبا \u202e\u202d " * 5_000,
        "zero_width_joiners": "👨\u200d👩\u200d👧\u200d👦" * 10_000,
        "zero_width_letters": "a\u200d" * 50_000,
        "handles": "@acme " * 20_000,
        "hashtags": "#fail " * 20_000,
        "email_local_part": "a%" * 50_000 + "@",
        "emails": "a.b@c.io " * 20_000,
        "but_then_words": "but " + "good " * 20_000,
        "sarcasm_prefix": "thank you for " * 10_000,
        "birth_dates": "dob 01/02/1990 " * 10_000,
        "streets": "12 Main Street " * 10_000,
        "medical": "my insulin " * 10_000,
        "passwords": "password: abc123! " * 10_000,
        "security_codes": "cvv 123 exp 12/29 " * 10_000,
        "ssns": "ssn 123-45-6789 " * 10_000,
        "capitals": "A" * 50_000 + "!!" * 1_000,
    }


def time_case(text: str, repeats: int = REPEATS) -> tuple[float, float]:
    """Max wall time and max CPU time of ``analyze(text)`` over ``repeats`` runs, in ms. On a
    shared machine the wall time also counts other processes; the CPU time is this work alone."""
    wall = cpu = 0.0
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        analyze(text, channel="chat", visibility="private")
        wall = max(wall, time.perf_counter() - start)
        cpu = max(cpu, time.process_time() - start_cpu)
    return wall * 1000, cpu * 1000


def run(data_dir: Path | None = None, *, repeats: int = REPEATS) -> dict[str, Any]:
    analyze("warm up the lexicons")
    texts = cases()
    # The worker processes (`threadline serve`, `threadline worker`) freeze their startup
    # objects out of the collector's full scans; so does the bench, or a full collection over
    # the CLI's imports lands in one case's timing.
    gc.collect()
    gc.freeze()
    load_before = os.getloadavg()[0]
    timings = {name: time_case(text, repeats) for name, text in texts.items()}
    wall = {name: round(t[0], 2) for name, t in timings.items()}
    cpu = {name: round(t[1], 2) for name, t in timings.items()}
    worst = max(wall, key=lambda k: wall[k])
    worst_cpu = max(cpu, key=lambda k: cpu[k])
    return {
        "bench": "hostile",
        "budget_ms": BUDGET_MS,
        "repeats": repeats,
        "worst_ms": wall[worst],
        "worst_case": worst,
        "worst_cpu_ms": cpu[worst_cpu],
        "worst_cpu_case": worst_cpu,
        "within_budget": wall[worst] <= BUDGET_MS,
        "over_budget": sorted(k for k, v in wall.items() if v > BUDGET_MS),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "cases": wall,
        "cases_cpu_ms": cpu,
    }
