"""Train the multilingual sentiment and category heads on the posts written for Threadline
(src/threadline/triage/training/*.jsonl) and write src/threadline/triage/multilingual_heads.npz
(decision 0338). Deterministic: the same rows give the same heads.

    .venv/bin/python scripts/triage_model/build_multilingual.py
"""

from __future__ import annotations

from collections import Counter

from threadline.triage.multilingual import HEADS_FILE, fit, read_rows


def main() -> None:
    rows = read_rows()
    heads = fit(rows)
    heads.save(HEADS_FILE)
    print(f"{len(rows)} posts: {dict(Counter(r['language'] for r in rows))}")
    print(f"wrote {HEADS_FILE.name}: sentiment {heads.sentiment_classes}, "
          f"category {heads.category_classes}")


if __name__ == "__main__":
    main()
