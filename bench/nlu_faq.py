"""FAQ retrieval from few examples: demo shop and unseen shops.

    python bench/nlu_faq.py [--errors]

For each shop: train exactly what ``sapa run`` trains (built-in intents + the
shop's FAQ and NLU examples), then score held-out customer paraphrases
(``bench/data/demo_paraphrases.yml`` for the demo data dir,
``bench/data/unseen/<shop>/test.yml`` for the unseen shops).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.evaluate import evaluate, format_report  # noqa: E402
from bot.nlu.model import train_for_shop  # noqa: E402
from bot.shopdata.loader import load_shop  # noqa: E402
from bot.shopdata.rasa_nlu import read_nlu_file  # noqa: E402


def shops() -> list[tuple[str, Path, Path]]:
    out = [("demo", ROOT / "data", ROOT / "bench" / "data" / "demo_paraphrases.yml")]
    for d in sorted((ROOT / "bench" / "data" / "unseen").glob("*")):
        if (d / "test.yml").exists():
            out.append((d.name, d, d / "test.yml"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", action="store_true", help="print every misclassified example")
    ap.add_argument("only", nargs="*")
    args = ap.parse_args()
    for name, data_dir, test_file in shops():
        if args.only and name not in args.only:
            continue
        shop = load_shop(data_dir)
        test = read_nlu_file(test_file)
        t0 = time.perf_counter()
        model = train_for_shop(shop)
        secs = time.perf_counter() - t0
        report = evaluate(model, test)
        extra = " ".join(f"{k} {v:.2f}" for k, v in model.train_report.items())
        print(f"== {name}: {len(shop.faqs)} FAQ entries, {len(test)} test examples,"
              f" trained in {secs:.1f} s ({extra})")
        print(format_report(report), flush=True)
        if args.errors:
            for text, gold, pred in report.errors:
                print(f"   x {gold:<28} -> {pred:<28} | {text}")


if __name__ == "__main__":
    main()
