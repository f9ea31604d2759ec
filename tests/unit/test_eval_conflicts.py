"""``factdesk eval conflicts``: records, outlets, answer matching and the figures' arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.errors import InvalidInputError
from bot.eval.conflicts import (
    PUBLISHED,
    SETTINGS,
    ConflictScores,
    Document,
    Outcome,
    Record,
    articles_for,
    contains,
    load_records,
    outlets_for,
    parse_settings,
)

RECORD = Record(
    id="r1",
    question="Where will the final be played?",
    answers=("Tampa",),
    altered_answers=("Glendale",),
    documents=(
        Document("The final will be played in Tampa, the league said.", "true"),
        Document("The final will be played in Glendale, the league said.", "altered"),
        Document("Ticket prices rose again this year.", "noise"),
    ),
    label="GPE",
)


def test_records_load_from_jsonl_and_bad_lines_are_named(tmp_path: Path) -> None:
    good = {
        "id": "r1",
        "question": "Where?",
        "answers": ["Tampa"],
        "altered_answers": ["Glendale"],
        "documents": [{"text": "In Tampa.", "kind": "true"}, {"text": "In Glendale.", "kind": "altered"}],
        "meta": {"answer_label": "GPE"},
    }
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "id": "r2"}) + "\n")
    records = load_records(path)
    assert [r.id for r in records] == ["r1", "r2"] and records[0].label == "GPE"
    bad_kind = {**good, "documents": [{"text": "x", "kind": "rumour"}]}
    for line, message in [
        ("not json", ":1: not a conflicts record"),
        (json.dumps(bad_kind), "'rumour' is not one of"),
        (json.dumps({**good, "answers": []}), "must not be empty"),
        (json.dumps({**good, "documents": good["documents"][:1]}), "at least one true and one altered"),
        (json.dumps(good) + "\n" + json.dumps(good), "appears 2 times"),
    ]:
        path.write_text(line + "\n")
        with pytest.raises(InvalidInputError, match=message):
            load_records(path)


def test_contains_is_case_insensitive_and_whole_word() -> None:
    assert contains("It will be held in TAMPA next year [1].", ["Tampa"])
    assert not contains("Metadata is not Meta's.", ["Met"])
    assert contains("Meta's glasses", ["Meta"]) and not contains("metadata", ["Meta"])
    assert not contains("anything", ["", "  "])


def test_each_document_keeps_its_outlet_across_settings_and_kinds_are_not_in_order() -> None:
    outlets = outlets_for(RECORD)
    assert len(set(outlets)) == 3 and outlets == outlets_for(RECORD)
    mixed = articles_for(RECORD, "mixed")
    assert [doc.kind for _, doc in mixed] == ["true", "altered", "noise"]
    assert [raw.outlet for raw, _ in mixed] == outlets
    true_only = articles_for(RECORD, "true_only")
    assert [doc.kind for _, doc in true_only] == ["true", "noise"]
    assert [raw.outlet for raw, _ in true_only] == [outlets[0], outlets[2]]
    assert {raw.published_at for raw, _ in mixed} == {PUBLISHED}
    assert len({raw.identity for raw, _ in mixed}) == 3
    many = Record("r2", "q", ("a",), ("b",), tuple(Document(f"text {i}", "noise") for i in range(20)))
    assert len(set(outlets_for(many))) == 20  # more documents than names still get distinct outlets
    orders = {tuple(outlets_for(Record(f"r{i}", "q", ("a",), ("b",), RECORD.documents))) for i in range(10)}
    assert len(orders) > 1  # the deal depends on the record, so "true" is not always the first outlet


def outcome(
    setting: str,
    *,
    true: bool = False,
    altered: bool = False,
    flagged: bool = False,
    names_both: bool = False,
    refused: bool = False,
    seconds: float = 0.5,
    merged: dict[str, int] | None = None,
) -> Outcome:
    return Outcome(
        setting=setting,
        refused=refused,
        flagged=flagged,
        names_both=names_both,
        contains_true=true,
        contains_altered=altered,
        engine="refusal" if refused else "extractive",
        seconds=seconds,
        ingest_seconds=1.0,
        merged=merged or {},
        answer="",
        disagreements=["x"] if flagged else [],
    )


def test_figures_count_each_setting_over_records() -> None:
    scores = ConflictScores()
    # Record 1: right alone; in the mix it states both versions and shows the disagreement.
    scores.add(
        RECORD,
        {
            "true_only": outcome("true_only", true=True, seconds=0.2),
            "altered_only": outcome("altered_only", altered=True, seconds=0.4),
            "mixed": outcome("mixed", true=True, altered=True, flagged=True, names_both=True, seconds=0.6),
        },
    )
    # Record 2: a false alarm alone, a refusal on the altered copies, the altered answer unflagged in the mix.
    scores.add(
        Record("r2", "q", ("a",), ("b",), RECORD.documents, label="PERSON"),
        {
            "true_only": outcome("true_only", true=True, flagged=True, seconds=0.1),
            "altered_only": outcome("altered_only", refused=True, seconds=0.3),
            "mixed": outcome("mixed", altered=True, merged={"altered": 1}, seconds=0.8),
        },
    )
    summary = scores.summary()
    assert summary["records"] == 2
    assert summary["true_only_accuracy"] == 1.0
    assert summary["true_only_flagged"] == 0.5
    assert summary["altered_only_accuracy"] == 0.5
    assert summary["altered_only_refused"] == 0.5
    assert summary["mixed_flagged"] == 0.5 and summary["mixed_flagged_naming_both"] == 0.5
    assert summary["mixed_accuracy"] == 0.5
    assert summary["mixed_altered_stated"] == 1.0
    assert summary["mixed_altered_unflagged"] == 0.5  # record 2 only: record 1 showed the disagreement
    assert summary["mixed_altered_merged"] == 0.5
    assert summary["documents_merged_by_kind"] == {"altered": 1}
    assert summary["p50_seconds_per_question"] == pytest.approx(0.35)  # median of six answers
    assert summary["p50_seconds_per_question_by_setting"] == {
        "true_only": pytest.approx(0.15),
        "altered_only": pytest.approx(0.35),
        "mixed": pytest.approx(0.7),
    }
    assert summary["answers_by_engine"] == {"extractive": 5, "refusal": 1}
    assert summary["by_answer_label"]["GPE"]["mixed_flagged"] == 1.0
    assert summary["by_answer_label"]["PERSON"]["mixed_altered_unflagged"] == 1.0
    assert set(SETTINGS) == {"true_only", "altered_only", "mixed"}


def test_real_outlets_named_in_the_question_are_replaced_in_the_question_asked(tmp_path: Path) -> None:
    raw = {
        "id": "r2",
        "question": "Who, according to The Verge and TechCrunch's report, leads the company?",
        "answers": ["Ada"],
        "altered_answers": ["Bea"],
        "documents": [{"text": "Ada leads it.", "kind": "true"}, {"text": "Bea leads it.", "kind": "altered"}],
        "meta": {"question_outlets": ["The Verge", "TechCrunch"]},
    }
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(raw) + "\n", encoding="utf-8")
    (record,) = load_records(path)
    assert record.asked == "Who, according to one outlet and one outlet's report, leads the company?"
    assert RECORD.asked == RECORD.question  # nothing named, nothing replaced


def test_settings_are_parsed_in_the_benchmarks_order_and_unknown_ones_are_named() -> None:
    assert parse_settings(" mixed,true_only ") == ("true_only", "mixed")
    with pytest.raises(InvalidInputError, match="unknown setting both, none: choose from"):
        parse_settings("true_only,none,both")
    with pytest.raises(InvalidInputError, match=r"unknown setting \(none\)"):
        parse_settings(" , ")


def test_figures_leave_out_the_settings_not_run() -> None:
    scores = ConflictScores()
    scores.add(RECORD, {"true_only": outcome("true_only", true=True, seconds=0.2)})
    summary = scores.summary()
    assert summary["true_only_accuracy"] == 1.0
    assert "mixed_flagged" not in summary and "altered_only_accuracy" not in summary
    assert summary["p50_seconds_per_question_by_setting"] == {"true_only": pytest.approx(0.2)}
    assert summary["by_answer_label"]["GPE"] == {"records": 1, "true_only_accuracy": 1.0}
