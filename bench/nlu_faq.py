"""FAQ retrieval from few examples: demo shop and unseen shops.

    python bench/nlu_faq.py [--errors]

For each shop: train exactly what ``sapa run`` trains (built-in intents + the
shop's FAQ and NLU examples), then score held-out customer paraphrases
(``bench/data/demo_paraphrases.yml`` for the demo data dir,
``bench/data/unseen/<shop>/test.yml`` for the unseen shops). The shipped FAQ
router (bot/nlu/router.py) was fitted on these same messages, so for the unseen
shops these figures are in-sample; ``bench/train_faq_router.py`` measures them
leave one shop out.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.nlu.evaluate import compute_report, evaluate, format_report  # noqa: E402
from bot.nlu.model import shop_examples, train_for_shop  # noqa: E402
from bot.shopdata.loader import load_shop  # noqa: E402
from bot.shopdata.rasa_nlu import read_nlu_file  # noqa: E402


def shops() -> list[tuple[str, Path, Path]]:
    out = [("demo", ROOT / "data", ROOT / "bench" / "data" / "demo_paraphrases.yml")]
    for d in sorted((ROOT / "bench" / "data" / "unseen").glob("*")):
        if (d / "test.yml").exists():
            out.append((d.name, d, d / "test.yml"))
    return out


def baseline(shop, test):
    """Plain TF-IDF (word 1-2 + char 2-5) + LinearSVC over the same training
    data as the model (built-in intents, the shop's NLU examples, one class per
    FAQ entry from its questions, out_of_scope as a class): the figure to beat."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC

    texts, labels = [], []
    for ex in shop_examples(shop):
        if ex.text.strip():
            texts.append(ex.text)
            labels.append(ex.intent)
    for f in shop.faqs:
        for q in f.all_questions():
            texts.append(q)
            labels.append("faq/" + f.id)
    t0 = time.perf_counter()
    clf = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True),
        ),
        LinearSVC(C=1.0, class_weight="balanced"),
    ).fit(texts, labels)
    secs = time.perf_counter() - t0
    pred = list(clf.predict([ex.text for ex in test]))
    return compute_report([ex.intent for ex in test], pred, (), secs, [ex.text for ex in test])


def one_tap(model, test) -> float:
    """Share of in-scope questions whose entry the customer gets: answered outright, or
    offered as one of the "did you mean" buttons (the policy asks instead of answering
    when the NLU returns suggestions)."""
    reached = total = 0
    for ex in test:
        if not ex.intent.startswith("faq/"):
            continue
        parse = model.parse(ex.text)
        offered = {s.name for s in parse.suggestions}
        total += 1
        reached += (parse.intent.name == ex.intent and not parse.suggestions) or ex.intent in offered
    return reached / total if total else 0.0


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
        if model.faq_router is not None:
            print("(in-sample: the shipped FAQ router was fitted on these messages; "
                  "bench/train_faq_router.py gives the leave-one-shop-out figures)")
        print(f"in-scope reached     {one_tap(model, test):.1%} (answered, or among the 'did you mean' buttons)")
        b = baseline(shop, test)
        print(f"   baseline TF-IDF+LinearSVC: accuracy {b.accuracy:.3f}, in-scope {b.in_scope_accuracy or 0:.3f},"
              f" OOS P/R {b.oos_precision or 0:.2f}/{b.oos_recall or 0:.2f}", flush=True)
        if args.errors:
            for text, gold, pred in report.errors:
                print(f"   x {gold:<28} -> {pred:<28} | {text}")


if __name__ == "__main__":
    main()
