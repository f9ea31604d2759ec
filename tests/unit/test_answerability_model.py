"""The answer-or-refuse decision: the rules that refuse before the model, the model file, the shared logistic model."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.logistic import LogisticModel
from bot.verify.answerability import (
    ANSWERABILITY_FEATURES,
    ANSWERABILITY_MODEL_FILE,
    AnswerabilityModel,
    AnswerabilityPolicy,
    evidence_features,
)
from bot.verify.facts import DEFAULT_MODEL_FILE, SupportModel


def _row(**changes: Any) -> dict[str, Any]:
    """An Evidence.to_dict row for passages that plainly answer an untyped question."""
    row: dict[str, Any] = {
        "coverage": 0.9,
        "best_passage": 0.8,
        "best_sentence": 0.7,
        "candidate": None,
        "phrase": "what",
        "typed": False,
        "asks_value": False,
        "absent_sources": [],
        "absent_names": [],
        "names": 1,
        "candidate_coverage": 0.0,
        "absent_share": 0.0,
        "candidate_sentence": 0.0,
        "top_dense": 0.7,
        "dense_ok": True,
    }
    return row | changes


@pytest.fixture(scope="module")
def policy() -> AnswerabilityPolicy:
    return AnswerabilityPolicy()


def test_passages_that_cover_the_question_and_are_close_in_meaning_answer(policy: AnswerabilityPolicy) -> None:
    decision = policy.decide(_row())
    assert decision.answerable and decision.score is not None and decision.score > 0.9


def test_passages_that_cover_little_and_are_far_in_meaning_refuse_with_the_coverage(
    policy: AnswerabilityPolicy,
) -> None:
    weak = _row(coverage=0.3, best_passage=0.2, best_sentence=0.15, top_dense=0.35, dense_ok=False)
    decision = policy.decide(weak)
    assert not decision.answerable
    assert decision.reason == "the passages cover 30% of the question and are not close in meaning"


def test_a_name_shared_by_the_passages_of_a_multi_hop_question_answers(policy: AnswerabilityPolicy) -> None:
    """Short snippets, each holding one fact of the question: half its words, far from it in meaning."""
    snippets = _row(coverage=0.5, best_passage=0.25, best_sentence=0.2, top_dense=0.42, dense_ok=False, typed=True)
    alone = policy.decide(snippets | {"candidate": "Halden Home", "candidate_coverage": 0.0})
    assert not alone.answerable and alone.reason.startswith("the passages cover 50%")
    # … until two or more of them name the same company and together cover the question.
    assert policy.decide(snippets | {"candidate": "Halden Home", "candidate_coverage": 0.5}).answerable


def test_a_cited_source_no_passage_is_from_refuses_whatever_the_coverage(policy: AnswerabilityPolicy) -> None:
    decision = policy.decide(_row(absent_sources=["Oakmere Echo"]))
    assert not decision.answerable and decision.score is None
    assert decision.reason == "no passage mentions Oakmere Echo" and decision.missing == ("Oakmere Echo",)


def test_absent_names_refuse_when_they_are_much_of_the_question(policy: AnswerabilityPolicy) -> None:
    """ "Who won the Alpine Cup?" over pages about the County Cup, even with a shared name."""
    alpine = _row(typed=True, candidate="Harriers", candidate_coverage=0.67, absent_names=["the Alpine Cup"])
    assert policy.decide(alpine | {"absent_share": 0.67}).reason == "no passage mentions the Alpine Cup"
    # A detail of a long multi-hop question ("… focused on Macs …") is left to the model.
    assert policy.decide(alpine | {"absent_share": 0.04}).score is not None


def test_a_typed_question_with_no_candidate_of_its_type_refuses(policy: AnswerabilityPolicy) -> None:
    decision = policy.decide(_row(typed=True, phrase="when", asks_value=True))
    assert not decision.answerable and decision.reason == "no passage gives a when answer"


def test_a_number_far_from_the_question_words_does_not_answer_a_how_much_question(
    policy: AnswerabilityPolicy,
) -> None:
    """ "How much did the Harriers pay for their new stadium?" and "saved two penalties"."""
    value = _row(typed=True, phrase="how much", asks_value=True, candidate="two", coverage=0.6, dense_ok=False)
    assert policy.decide(value | {"candidate_sentence": 0.4}).reason.startswith("no how much answer sits near")
    assert policy.decide(value | {"candidate_sentence": 0.8}).answerable  # "paid £2m for the new stadium"


def test_the_shipped_model_reads_every_feature_the_evidence_gives() -> None:
    model = AnswerabilityModel.load()
    assert model.name == "answerability"
    assert set(model.features) == set(ANSWERABILITY_FEATURES) == set(evidence_features(_row()))
    assert 0.0 < model.threshold < 1.0


def test_a_model_file_with_an_unknown_feature_or_ragged_lists_is_rejected() -> None:
    raw = json.loads(ANSWERABILITY_MODEL_FILE.read_text())
    with pytest.raises(ValidationError, match="unknown features"):
        AnswerabilityModel.model_validate(raw | {"features": ["coverage", *raw["features"][1:-1], "n_novel"]})
    with pytest.raises(ValidationError, match="same length"):
        AnswerabilityModel.model_validate(raw | {"coef": raw["coef"][:-1]})
    # The support model's features are not the answerability model's, and the other way round.
    with pytest.raises(ValidationError, match="unknown features"):
        SupportModel.model_validate(raw)
    with pytest.raises(ValidationError, match="unknown features"):
        AnswerabilityModel.model_validate(json.loads(DEFAULT_MODEL_FILE.read_text()))


def test_a_logistic_model_standardises_its_inputs_and_decides_at_its_threshold() -> None:
    model = LogisticModel(
        name="toy",
        features=("a", "b"),
        mean=(1.0, 0.0),
        scale=(2.0, 0.0),  # a zero scale is read as 1
        coef=(1.0, -1.0),
        intercept=0.0,
        threshold=0.6,
        trained_on="nothing",
    )
    assert model.probability({"a": 1.0, "b": 0.0}) == pytest.approx(0.5)
    assert model.probability({"a": 3.0, "b": 0.0}) == pytest.approx(1 / (1 + 2.718281828**-1))
    assert not model.decides({"a": 1.0, "b": 0.0}) and model.decides({"a": 3.0, "b": 0.0})
    assert model.probability({"a": 1e9, "b": 0.0}) == pytest.approx(1.0)  # no overflow
