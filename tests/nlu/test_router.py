"""The FAQ-or-out-of-scope router (bot/nlu/router.py) and how the model uses it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.model import FAQ_PREFIX, OOS, train_for_shop
from bot.nlu.router import FaqRouter, applies, shipped_router
from bot.shopdata.loader import load_shop

ROOT = Path(__file__).resolve().parents[2]
# An FAQ file as shop admins write them: two or three questions per entry.
SPARSE_SHOP = ROOT / "bench" / "data" / "unseen" / "sepatu_kulit"


@pytest.fixture(scope="module")
def sparse_model():
    return train_for_shop(load_shop(SPARSE_SHOP))


def test_fit_learns_the_direction_and_round_trips_through_json():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(200, 3))
    right = (Z[:, 0] - 0.5 * Z[:, 2] > 0).astype(int)
    router = FaqRouter.fit(Z, right, ("a", "b", "c"))
    assert router.probability(np.array([2.0, 0.0, -1.0])) > 0.9
    assert router.probability(np.array([-2.0, 0.0, 1.0])) < 0.1
    again = FaqRouter.from_json(router.to_json())
    assert again.features == ("a", "b", "c")
    z = np.array([0.3, -1.0, 0.2])
    assert again.probability(z) == pytest.approx(router.probability(z), abs=1e-5)


def test_the_router_is_for_faq_files_with_few_questions_per_entry():
    assert applies(questions=90, entries=31)  # 2-3 a piece
    assert not applies(questions=450, entries=52)  # the demo shop: 8-9 a piece
    assert not applies(questions=0, entries=0)


def test_a_router_fitted_on_other_features_is_not_used():
    assert shipped_router(("faq_s1", "something_else")) is None


def test_the_shipped_router_matches_the_combiners_features(sparse_model):
    # Fails when the combiner's features change and the resource was not refitted
    # (python bench/train_faq_router.py).
    assert sparse_model.faq_router is not None
    assert sparse_model.faq_router.features == sparse_model.combiner.feature_names


def test_the_demo_shop_keeps_its_own_combiner():
    model = train_for_shop(load_shop(ROOT / "data"))
    assert model.faq_router is None


def test_route_features_gives_the_routers_inputs_and_the_best_entry(sparse_model):
    z, top = sparse_model.route_features("bisa COD gak kak?")
    assert z.shape == (len(sparse_model.combiner.feature_names),)
    assert top == "cod-installments"


def test_the_router_decides_between_the_faq_and_out_of_scope(sparse_model):
    question = "sepatunya bisa dibayar di tempat ga kak"
    router = sparse_model.faq_router
    try:
        sparse_model.faq_router = replace(router, threshold=0.0)  # always the FAQ
        answered = sparse_model.parse(question)
        sparse_model.faq_router = replace(router, threshold=1.01)  # never
        turned_away = sparse_model.parse(question)
    finally:
        sparse_model.faq_router = router
    assert answered.intent.name.startswith(FAQ_PREFIX)
    assert turned_away.intent.name == OOS
    # its confidence is the router's probability of the FAQ being right
    z, _ = sparse_model.route_features(question)
    assert answered.intent.confidence == pytest.approx(router.probability(z), abs=1e-6)


def test_stage_a_intents_do_not_go_through_the_router(sparse_model):
    router = sparse_model.faq_router
    try:
        sparse_model.faq_router = replace(router, threshold=1.01)  # the FAQ never wins
        assert sparse_model.parse("halo kak").intent.name == "greet"
        assert sparse_model.parse("makasih banyak ya kak").intent.name == "thanks"
    finally:
        sparse_model.faq_router = router


@pytest.fixture(scope="module")
def cosmetics_model():
    # Its FAQ explains how to confirm a transfer; the built-in payment flow takes one.
    return train_for_shop(load_shop(ROOT / "bench" / "data" / "unseen" / "kosmetik_lokal"))


@pytest.mark.parametrize(
    "question",
    ["bukti transfernya dikirim kemana ya kak?", "udah transfer nih, konfirmasinya gimana kak"],
)
def test_asking_how_a_flow_works_gets_the_shops_own_answer(cosmetics_model, question):
    assert cosmetics_model.parse(question).intent.name == FAQ_PREFIX + "payment-confirmation"


@pytest.mark.parametrize("message", ["saya sudah transfer kak", "udah tf 150rb kak"])
def test_saying_it_happened_still_starts_the_flow(cosmetics_model, message):
    assert cosmetics_model.parse(message).intent.name == "payment_confirmation"


def test_asking_where_an_order_is_stays_the_status_check():
    model = train_for_shop(load_shop(ROOT / "data"))
    assert model.parse("pesanan saya sampai mana ya kak").intent.name == "order_status"
