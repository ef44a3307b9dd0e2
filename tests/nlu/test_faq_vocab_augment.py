"""The concept vocabulary (whole-token matching, surface form first) and the
noisy paraphrases the FAQ decision layer trains on."""

from __future__ import annotations

from bot.nlu.augment import augment, reverse_slang
from bot.nlu.features import TextAnalyzer, Vocabulary


def canon(text: str) -> tuple[str, ...]:
    return TextAnalyzer(Vocabulary.builtin()).analyze(text).canonical


def test_derived_form_is_not_its_stems_concept() -> None:
    # "perbaikan" (repair) stems to "baik" (good): the listed surface form wins
    assert "~servis" in canon("perbaikan sepatu")
    assert "~servis" not in canon("barangnya baik")


def test_addressing_the_admin_means_no_concept() -> None:
    # "boss", "min order" and "ibu ibu" normalize to the address token ("kak", "kak order"):
    # as concept terms they tagged every "kak" message as ~owner, ~minimal or ~wanita.
    assert canon("kak") == ("kak",)
    assert canon("halo boss") == canon("halo kak") == (*canon("halo"), "kak")
    assert [c for c in canon("min order brp") if c.startswith("~")] == [c for c in canon("order brp") if c.startswith("~")]


def test_bilingual_concepts_meet() -> None:
    for id_text, en_text, concept in (
        ("sepatu saya jamuran", "mould on my shoes", "~jamur"),
        ("bisa nyicil?", "can i pay in installments", "~cicilan"),
        ("bisa ganti sol", "do you resole", "~sol"),
        ("ada garansi?", "any warranty", "~garansi"),
    ):
        assert concept in canon(id_text), id_text
        assert concept in canon(en_text), en_text


def test_no_substring_accidents() -> None:
    assert "~satu" not in canon("is it a good price")
    assert "~sampai_jumpa" not in canon("udah dah transfer")
    assert "~bagaimana" not in canon("cara rawat kulit")


def test_augment_is_deterministic_and_noisy() -> None:
    vocab = Vocabulary.builtin()
    a = augment("Berapa lama pengiriman ke Surabaya?", vocab, 4)
    assert a == augment("Berapa lama pengiriman ke Surabaya?", vocab, 4)
    assert len(a) == 4 and all(v.strip() for v in a)
    assert any(v != "berapa lama pengiriman ke surabaya" for v in a)
    assert "brp" in reverse_slang().get("berapa", ())
