"""Fact-level alignment on the real spaCy model: what must and must not count as support."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.text.sentences import sentences_of
from bot.eval.summedits import balanced_accuracy, best_threshold, evaluate, load_records
from bot.verify.facts import DEFAULT_MODEL_FILE, FactSupport, SupportModel, slot_conflict

SOURCE = (
    "The company said on Tuesday, 7 February 2021, that TikTok, led by Shou Chew, would pay $2.7 billion "
    "to settle the case. Regulators did not comment on the deal. Sales rose 12% in the quarter."
)


@pytest.fixture(scope="module")
def facts() -> FactSupport:
    return FactSupport()


@pytest.mark.parametrize(
    ("statement", "missing"),
    [
        ("Tumblr would pay $2.7 billion to settle the case.", "Tumblr"),  # another entity in the same role
        ("TikTok would pay $3.1 billion to settle the case.", "$3.1 billion"),  # another amount
        ("TikTok would pay $2.7 billion on 8 February 2021.", "8 February 2021"),  # another date
        ("Sales rose 15% in the quarter.", "15%"),  # another percentage
    ],
)
def test_a_changed_fact_is_named(facts: FactSupport, statement: str, missing: str) -> None:
    verdict = facts.check(statement, SOURCE)
    assert missing in verdict.check.missing
    assert missing in verdict.check.explanation


@pytest.mark.parametrize(
    "statement",
    [
        "TikTok would pay $2.7 billion to settle the case.",  # verbatim
        "TikTok agreed to pay 2.7bn dollars.",  # the same amount written another way
        "On Feb 7, 2021, Chew's company said it would settle.",  # the same date, a surname for the full name
        "Sales rose 12% in the quarter.",
    ],
)
def test_facts_stated_another_way_align(facts: FactSupport, statement: str) -> None:
    verdict = facts.check(statement, SOURCE)
    assert verdict.check.missing == ()
    assert not verdict.check.negation_mismatch


@pytest.mark.parametrize(
    ("statement", "missing"),
    [("Tumblr would pay $2.7 billion to settle the case.", ("Tumblr",)), ("Sales rose 12% in the quarter.", ())],
)
def test_a_source_read_in_its_stored_parts_checks_as_the_whole_text(
    facts: FactSupport, statement: str, missing: tuple[str, ...]
) -> None:
    """Citation checks read a source as its headline and sentences, the texts parsed at ingest."""
    parts = ["TikTok settles", *sentences_of(SOURCE)]
    whole = facts.check(statement, "\n".join(parts))
    in_parts = facts.check(statement, parts)
    assert in_parts.check.missing == whole.check.missing == missing
    assert in_parts.supported == whole.supported == (not missing)
    assert facts.source_facts(parts).numbers == facts.source_facts(SOURCE).numbers


def test_negation_must_agree_with_the_aligned_sentence(facts: FactSupport) -> None:
    assert facts.check("Regulators commented on the deal.", SOURCE).check.negation_mismatch
    assert facts.check("TikTok would not pay to settle the case.", SOURCE).check.negation_mismatch
    assert not facts.check("Regulators did not comment on the deal.", SOURCE).check.negation_mismatch


def test_a_swapped_entity_scores_below_the_original(facts: FactSupport) -> None:
    original = facts.check("TikTok agreed to pay $2.7 billion, the company said.", SOURCE)
    swapped = facts.check("Tumblr agreed to pay $2.7 billion, the company said.", SOURCE)
    assert swapped.probability < original.probability


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("Regulators did not comment on the deal.", 0.0),  # verbatim: every word pair is the source's
        ("Sales rose 12% in the quarter.", 0.0),
        ("Regulators did not comment on the big deal.", 2 / 7),  # an inserted word breaks the pairs around it
    ],
)
def test_word_pairs_the_source_lacks(facts: FactSupport, statement: str, expected: float) -> None:
    assert facts.check(statement, SOURCE).check.features["frac_novel_bigrams"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("statement", "count"),
    [
        ("TikTok would pay $2.7 billion to settle the case.", 0),  # the source's own entities
        ("Chew's TikTok would pay $2.7bn.", 0),  # the same amount written another way, a surname
        ("The company said on 7 March 2021 that TikTok would pay.", 1),  # the day and year are there, the month is not
        ("TikTok would pay 2.7bn dollars.", 1),  # a word the source spells as a symbol: a weak signal, not a verdict
        ("Tumblr would pay $2.7 billion to settle the case.", 1),
    ],
)
def test_entities_with_a_word_the_source_lacks(facts: FactSupport, statement: str, count: int) -> None:
    assert facts.check(statement, SOURCE).check.features["n_ents_new_word"] == count


def test_the_shipped_model_file_matches_its_schema() -> None:
    model = SupportModel.load(DEFAULT_MODEL_FILE)
    assert model.name == "support"
    assert len(model.coef) == len(model.features)
    broken = json.loads(DEFAULT_MODEL_FILE.read_text()) | {"coef": [1.0]}
    with pytest.raises(ValueError, match="same length"):
        SupportModel.model_validate(broken)


def test_balanced_accuracy_and_threshold() -> None:
    import numpy as np

    labels = np.array([1, 1, 0, 0])
    assert balanced_accuracy(labels, np.array([True, True, False, False])) == 1.0
    assert balanced_accuracy(labels, np.array([True, True, True, True])) == 0.5
    assert best_threshold(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 0.8


def test_eval_summedits_on_a_file_of_our_own(tmp_path: Path, facts: FactSupport) -> None:
    doc = "Maria said the museum will open a new wing in May. Tickets cost 12 euros. The mayor did not attend."
    rows = []
    for split in ("evaluation", "test"):
        rows += [
            {"doc": doc, "summary": "The museum will open a new wing in May.", "label": 1, "split": split},
            {"doc": doc, "summary": "Tickets cost 12 euros, Maria said.", "label": 1, "split": split},
            {
                "doc": doc,
                "summary": "The museum will open a new wing in June.",
                "label": 0,
                "split": split,
                "edit_types": ["entity_modification"],
            },
            {
                "doc": doc,
                "summary": "The mayor attended the opening.",
                "label": 0,
                "split": split,
                "edit_types": ["negation_insertion_removal"],
            },
        ]
    path = tmp_path / "summedits_mine.json"
    path.write_text(json.dumps(rows))
    figures = evaluate(load_records(path), facts)
    assert figures["test_records"] == 4
    assert figures["test_balanced_accuracy"] >= 0.75  # a changed date or negation is caught
    assert set(figures["per_edit_type"]) == {"entity_modification", "negation_insertion_removal"}


@pytest.mark.parametrize(
    ("a", "b", "label"),
    [
        (
            "The league said the 2028 final will be played in Tampa, Florida.",
            "The league said the 2028 final will be played in Glendale, Arizona.",
            "GPE",
        ),
        ("TikTok agreed to pay $2.7 billion.", "TikTok agreed to pay $3 billion.", "MONEY"),
        ("Donald Trump met the press on Monday.", "Joe Biden met the press on Monday.", "PERSON"),
    ],
)
def test_a_different_value_in_the_same_role_conflicts(facts: FactSupport, a: str, b: str, label: str) -> None:
    found = slot_conflict(facts.analyzer.parse(a), facts.analyzer.parse(b))
    assert found is not None and found.label == label


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Donald Trump met the press on Monday.", "Trump met the press on Monday."),  # a surname adds nothing new
        ("TikTok agreed to pay $2.7 billion.", "TikTok agreed to pay 2.7bn dollars."),  # the same amount
        ("Officials said this week that talks continue.", "Officials said on Tuesday that talks continue."),  # relative
        ("Putin met Zelenskyy in Geneva.", "Hrytsenko referred to a report about Geneva."),  # different roles
    ],
)
def test_added_detail_relative_dates_and_other_roles_do_not_conflict(facts: FactSupport, a: str, b: str) -> None:
    assert slot_conflict(facts.analyzer.parse(a), facts.analyzer.parse(b)) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The small model tags one name ORG or nothing and its twin PERSON: names are one slot.
        (
            "Brock Halvorsen threw four touchdowns in the rout, including three to Marcus Lee.",
            "Dak Ruelas threw four touchdowns in the rout, including three to Marcus Lee.",
        ),
        (
            "Halvorsen has been scorching, with 58 points over the team's past two games.",
            "Ruelas has been scorching, with 58 points over the team's past two games.",
        ),
    ],
)
def test_a_swapped_name_conflicts_whatever_label_the_model_gives_it(facts: FactSupport, a: str, b: str) -> None:
    assert slot_conflict(facts.analyzer.parse(a), facts.analyzer.parse(b)) is not None


@pytest.mark.parametrize(
    ("a", "b", "slot"),
    [
        # The parse differs (passive vs active subject) though only the name changed.
        (
            "However, Halvorsen's been at his worst when pressured, completing 50% of his throws for 6.7 yards.",
            "However, Ruelas's been at his worst when pressured, completing 50% of his throws for 6.7 yards.",
            ("Halvorsen", "Ruelas"),
        ),
        # The small model reads a rare surname as a common noun ("Zhao's exit"): its twin is a name.
        (
            "Altman's exit is indeed shocking, said Gartner analyst Arun Chandrasekaran.",
            "Zhao's exit is indeed shocking, said Gartner analyst Arun Chandrasekaran.",
            ("Altman", "Zhao"),
        ),
        (
            "The council approved the budget by 27 votes to 19.",
            "The council approved the budget by 27 votes to 21.",
            ("19", "21"),
        ),
    ],
)
def test_one_sentence_worded_alike_but_for_a_replaced_name_or_number_conflicts(
    facts: FactSupport, a: str, b: str, slot: tuple[str, str]
) -> None:
    found = slot_conflict(facts.analyzer.parse(a), facts.analyzer.parse(b))
    assert found is not None and (found.a, found.b) == slot


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "U.S. President Donald Trump said the talks would resume.",
            "US President Donald Trump said the talks would resume.",
        ),
        ("The firm said it would cut 300 jobs in Leeds.", "The firm said it would cut 300 jobs in its Leeds office."),
        ("Trump said the talks would resume in Geneva.", "Donald Trump said the talks would resume in Geneva."),
        ("The council approved the budget on Tuesday.", "The council discussed the budget on Tuesday."),  # not a slot
    ],
)
def test_spelling_added_words_and_other_words_are_not_a_replaced_slot(facts: FactSupport, a: str, b: str) -> None:
    assert slot_conflict(facts.analyzer.parse(a), facts.analyzer.parse(b)) is None
