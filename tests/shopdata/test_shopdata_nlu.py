"""Rasa-format NLU files: annotations, intent names, line numbers, errors."""

from __future__ import annotations

import pytest

from bot.shopdata.loader import DataError, read_nlu_file, strip_annotations
from bot.shopdata.model import EntitySpan, NluExample, SourceRef


def test_strip_annotations_offsets():
    text, spans = strip_annotations(
        'kirim [2](quantity) [kemeja parang]{"entity": "product", "value": "KMJ-001"} ke [sby](city:Surabaya)'
    )
    assert text == "kirim 2 kemeja parang ke sby"
    assert spans == (
        EntitySpan(6, 7, "quantity", "2"),
        EntitySpan(8, 21, "product", "KMJ-001"),
        EntitySpan(25, 28, "city", "Surabaya"),
    )
    for span in spans:
        assert text[span.start : span.end] in ("2", "kemeja parang", "sby")


def test_strip_annotations_entity_dict_without_value_and_list_form():
    text, spans = strip_annotations('ke [Jakarta]{"entity": "city", "role": "to"} dari [Solo][{"entity": "city"}, {"entity": "origin"}]')
    assert text == "ke Jakarta dari Solo"
    assert spans == (
        EntitySpan(3, 10, "city", "Jakarta"),
        EntitySpan(16, 20, "city", "Solo"),
        EntitySpan(16, 20, "origin", "Solo"),
    )


def test_plain_brackets_without_annotation_are_kept():
    assert strip_annotations("ukuran [M] ada?") == ("ukuran [M] ada?", ())


def test_bad_entity_json_is_an_error(data_dir):
    path = data_dir.write(
        "nlu/x.yml",
        """\
        nlu:
        - intent: order_status
          examples: |
            - cek [resi]{entity: doc} ya
        """,
    )
    with pytest.raises(DataError) as info:
        read_nlu_file(path)
    assert [str(p) for p in info.value.problems] == [
        "data/nlu/x.yml:4: entity annotation {entity: doc} is not valid JSON "
        "(Expecting property name enclosed in double quotes)"
    ]


def test_yes_no_intent_names_stay_strings(data_dir):
    path = data_dir.write(
        "test.yml",
        """\
        # CLINC-style test file: unquoted yes/no intents, YAML 1.1 would read booleans
        version: "3.1"
        nlu:
        - intent: yes
          examples: |
            - yes please
        - intent: no
          examples: |
            - nope
        - intent: "on"
          examples: |
            - turn it on
        - intent: null
          examples: |
            - nothing
        """,
    )
    with pytest.raises(DataError) as info:
        read_nlu_file(path)
    # `intent: null` has no name; everything else keeps its written name.
    assert [str(p) for p in info.value.problems] == ["data/test.yml:13: intent name is empty"]
    path.write_text(path.read_text(encoding="utf-8").replace("intent: null", "intent: off"), encoding="utf-8")
    examples = read_nlu_file(path)
    assert [(e.intent, e.text) for e in examples] == [
        ("yes", "yes please"),
        ("no", "nope"),
        ("on", "turn it on"),
        ("off", "nothing"),
    ]
    assert all(type(e.intent) is str for e in examples)


def test_read_nlu_file_lines_and_skipped_sections(data_dir):
    path = data_dir.write(
        "nlu.yml",
        """\
        # header comment
        version: "3.1"
        nlu:
        - intent: greet
          examples: |
            - halo kak

            - selamat pagi   
        - synonym: sby
          examples: |
            - surabaya
        - lookup: city
          examples: |
            - Solo
        - regex: phone
          examples: |
            - 08\\d+
        - intent: thanks
          metadata: {source: admin}
          examples:
          - makasih
          - text: terima kasih [kak](person)
            metadata: {sentiment: positive}
        """,
    )
    examples = read_nlu_file(path)
    assert examples[3].text[13:16] == "kak"
    assert examples == [
        NluExample("halo kak", "greet", (), SourceRef("data/nlu.yml", 6)),
        NluExample("selamat pagi", "greet", (), SourceRef("data/nlu.yml", 8)),
        NluExample("makasih", "thanks", (), SourceRef("data/nlu.yml", 21)),
        NluExample(
            "terima kasih kak", "thanks", (EntitySpan(13, 16, "person", "kak"),), SourceRef("data/nlu.yml", 22)
        ),
    ]


def test_nlu_structure_errors(data_dir):
    path = data_dir.write(
        "nlu.yml",
        """\
        version: "3.1"
        nlu:
        - intent: greet
          exampels: |
            - halo
        - intent: bye
          examples: >
            - dah
        - text: hello
        - intent: thanks
          examples:
        rules: []
        """,
    )
    with pytest.raises(DataError) as info:
        read_nlu_file(path)
    assert [str(p) for p in info.value.problems] == [
        "data/nlu.yml:4: unknown key 'exampels' in nlu intent item (did you mean 'examples'?); "
        "allowed keys: intent, examples, metadata",
        "data/nlu.yml:7: examples must be a literal block ('examples: |'), not a folded one ('>')",
        "data/nlu.yml:9: each nlu item needs one of 'intent', 'synonym', 'regex' or 'lookup'; got keys: text",
        "data/nlu.yml:11: examples of intent 'thanks' must be a block of '- text' lines ('examples: |'), "
        "got nothing",
        "data/nlu.yml:12: unknown key 'rules' in an NLU file; allowed keys: version, nlu",
    ]


def test_read_nlu_file_sorted_problems_and_bad_version(data_dir):
    path = data_dir.write(
        "nlu.yml",
        """\
        version: 3
        nlu:
        - intent: greet
          examples: |
            -
        """,
    )
    with pytest.raises(DataError) as info:
        read_nlu_file(path)
    assert [str(p) for p in info.value.problems] == [
        'data/nlu.yml:1: version must be "3.1", got 3',
        "data/nlu.yml:5: empty example in intent 'greet'",
    ]
