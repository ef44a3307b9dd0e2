"""Fit the FAQ-or-out-of-scope router on customers' paraphrases, measured leave-one-shop-out.

    python bench/train_faq_router.py           # measure, then write bot/nlu/resources/faq_router.json
    python bench/train_faq_router.py --check   # measure only

For every shop of ``bench/nlu_faq.py`` (the demo data dir and the unseen shops
under ``bench/data/unseen``): train exactly what ``sapa run`` trains, and for
each held-back customer message labeled with an FAQ entry or out_of_scope take
the combiner's standardized features and whether the FAQ's best entry is the
right answer. Then, for each shop in turn, fit the router on the *other*
shops only and score the held-out shop with the full parse (the figures to
quote for FAQ files the engine has never seen), next to the same model
without a router. Finally fit on all shops and write the resource that
``sapa run`` uses (see :mod:`bot.nlu.router`).
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nlu_faq import one_tap, shops  # noqa: E402

from bot.nlu.evaluate import evaluate  # noqa: E402
from bot.nlu.model import FAQ_PREFIX, OOS, train_for_shop  # noqa: E402
from bot.nlu.router import RESOURCE, FaqRouter, applies  # noqa: E402
from bot.shopdata.loader import load_shop  # noqa: E402
from bot.shopdata.rasa_nlu import read_nlu_file  # noqa: E402


def router_rows(model, test) -> tuple[np.ndarray, np.ndarray]:
    """(standardized combiner features, 1 if the FAQ's best entry is the right answer) for
    every test message labeled with an FAQ entry or out_of_scope."""
    Z: list[np.ndarray] = []
    right: list[int] = []
    for ex in test:
        if not (ex.intent.startswith(FAQ_PREFIX) or ex.intent == OOS):
            continue
        found = model.route_features(ex.text)
        if found is None:
            continue
        z, top = found
        Z.append(z)
        right.append(int(ex.intent == FAQ_PREFIX + top))
    return np.array(Z), np.array(right)


def line(name: str, model, test) -> str:
    report = evaluate(model, test)
    return (
        f"{name:<28} accuracy {report.accuracy:.3f}  in-scope {report.in_scope_accuracy or 0:.3f}"
        f"  OOS P/R {report.oos_precision or 0:.2f}/{report.oos_recall or 0:.2f}"
        f"  reached {one_tap(model, test):.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="measure only; do not write the resource")
    args = ap.parse_args()

    shop_data = []
    for name, data_dir, test_file in shops():
        model = train_for_shop(load_shop(data_dir))
        test = read_nlu_file(test_file)
        Z, right = router_rows(model, test)
        shop_data.append((name, model, test, Z, right))
        print(f"{name}: {len(right)} messages, best entry right for {right.mean():.2f}", flush=True)
    features = shop_data[0][1].combiner.feature_names
    if any(m.combiner.feature_names != features for _, m, *_ in shop_data):
        raise SystemExit("the shops' combiners use different features")

    print("\nleave one shop out (the router never saw the shop it is scored on):")
    for i, (name, model, test, _, _) in enumerate(shop_data):
        others = [d for j, d in enumerate(shop_data) if j != i]
        router = FaqRouter.fit(np.vstack([d[3] for d in others]), np.concatenate([d[4] for d in others]), features)
        model.faq_router = None
        print(line(f"{name}, no router", model, test))
        model.faq_router = router
        used = "" if applies(len(model.faq_index.q_units), len(model.faq_index)) else " (not used: many questions per entry)"
        print(line(f"{name}, router", model, test) + used, flush=True)

    router = FaqRouter.fit(np.vstack([d[3] for d in shop_data]), np.concatenate([d[4] for d in shop_data]), features)
    print("\nfitted on all shops:", ", ".join(f"{f} {c:+.2f}" for f, c in zip(features, router.coef)))
    if not args.check:
        path = Path(str(resources.files("bot.nlu").joinpath(RESOURCE)))
        path.write_text(router.to_json() + "\n", encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
