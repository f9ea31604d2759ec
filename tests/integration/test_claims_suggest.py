"""Suggested flags from the indexed sample corpus, by rules and by a (fake) LLM."""

from __future__ import annotations

from datetime import UTC, datetime

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from bot.claims.suggest import suggest_flags
from bot.core.prompts import PromptLibrary
from bot.core.settings import PROMPTS_DIR, Settings
from bot.verify.contradictions import ContradictionKind, Statement
from bot.verify.llm_contradictions import LLMContradictionFinder
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import app_for

SINCE = datetime(2025, 3, 1, tzinfo=UTC)


def test_rules_suggest_the_geneva_report_against_its_denial(
    sample_settings: Settings, embeddings: LocalMiniLMEmbeddings
) -> None:
    app = app_for(sample_settings, embeddings)
    store, service = app.store, app.claims
    found = suggest_flags(store, service, SINCE)
    assert found, "the sample corpus has a report and its denial"
    pairs = [(s.text_a, s.text_b or "") for s in found]
    assert any("scheduled for mid-April in Geneva" in a and "denied" in b for a, b in pairs)
    assert all(s.source_a and s.source_b and s.source_a != s.source_b for s in found)
    assert service.pending_suggestions() == found
    # Running again queues nothing new: identical pending suggestions are returned, not copied.
    again = suggest_flags(store, service, SINCE)
    assert {s.id for s in again} <= {s.id for s in found}
    assert len(service.pending_suggestions()) == len(found)
    assert suggest_flags(store, service, datetime(2030, 1, 1, tzinfo=UTC)) == []


STATEMENTS = [
    Statement("The summit is scheduled for 14 April in Geneva.", 1),
    Statement("Both governments said no date has been set for any summit.", 2),
    Statement("The tram line opened on Wednesday.", 3),
]


def _finder(reply: str) -> LLMContradictionFinder:
    return LLMContradictionFinder(
        FakeListChatModel(responses=[reply]), PromptLibrary(PROMPTS_DIR).get("contradictions")
    )


def test_llm_pairs_are_parsed_and_validated() -> None:
    reply = (
        'Here you go: [{"a": 1, "b": 2, "kind": "negation", "explanation": "scheduled vs not set"},'
        ' {"a": 1, "b": 9, "kind": "date"}, {"a": 3, "b": 3}, {"a": "1", "b": 2}, "junk",'
        ' {"a": 2, "b": 3, "kind": "made-up", "explanation": "x"}]'
    )
    found = _finder(reply).find(STATEMENTS)
    assert [(c.a.source_number, c.b.source_number if c.b else None) for c in found] == [(1, 2), (2, 3)]
    assert found[0].kind is ContradictionKind.NEGATION and found[0].explanation == "scheduled vs not set"
    assert found[1].kind is ContradictionKind.NEGATION  # unknown kinds fall back, invented indexes are dropped


def test_llm_garbage_yields_nothing() -> None:
    assert _finder("I cannot help with that.").find(STATEMENTS) == []
    assert _finder("[not json").find(STATEMENTS) == []
