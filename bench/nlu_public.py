"""Public intent benchmarks (Banking77, CLINC150): train on train.yml, score test.yml.

    python bench/nlu_public.py [banking77|clinc150 ...] [--split test|val]

Prints accuracy, in-scope accuracy, OOS precision/recall, training seconds and
parse latency — the figures ``sapa nlu test --train ... --data ...`` prints.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.nlu.evaluate import evaluate, format_report  # noqa: E402
from bot.nlu.model import train_model  # noqa: E402
from bot.shopdata.rasa_nlu import read_nlu_file  # noqa: E402

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sets", nargs="*", default=["banking77", "clinc150"])
    ap.add_argument("--split", default="test")
    ap.add_argument("--root", default=str(DATASETS))
    ap.add_argument("--limit", type=int, default=0, help="score only the first N test examples")
    args = ap.parse_args()
    for name in args.sets:
        root = Path(args.root) / name
        train = read_nlu_file(root / "train.yml")
        test = read_nlu_file(root / f"{args.split}.yml")
        if args.limit:
            test = test[:: max(1, len(test) // args.limit)]
        t0 = time.perf_counter()
        model = train_model(train)
        print(f"== {name} ({args.split}): trained on {len(train)} in {time.perf_counter() - t0:.1f} s;"
              f" cv {model.classifier.cv_report}", flush=True)
        report = evaluate(model, test)
        print(format_report(report), flush=True)


if __name__ == "__main__":
    main()
