"""Query planning and hybrid retrieval over the indexed sample corpus."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.answer.query import OutletMatcher, find_days, outlet_aliases, plan_query, split_parts
from bot.answer.retrieval import HybridRetriever, RetrievalConfig, interleave
from bot.core.settings import Settings, load_settings
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import Untouchable, app_for

NOW = datetime(2025, 4, 5, 12, tzinfo=UTC)
OUTLETS = ["TechCrunch", "The Verge", "The Roar | Sports Writers Blog", "The Independent - Life and Style"]


def test_outlet_aliases_cover_short_names() -> None:
    assert "the roar" in outlet_aliases("The Roar | Sports Writers Blog")
    assert "independent" in outlet_aliases("The Independent - Life and Style")
    matcher = OutletMatcher(OUTLETS)
    found = [o for _, _, o in matcher.find("Did The Verge and TechCrunch both report it, per The Roar?")]
    assert found == ["The Verge", "TechCrunch", "The Roar | Sports Writers Blog"]
    assert matcher.find("a techcrunchy headline") == []
    assert matcher.find("on the verge of a deal, per the Verge") == [(28, 37, "The Verge")]


def test_plan_reads_outlets_dates_and_relative_times() -> None:
    plan = plan_query("What did TechCrunch report on October 7, 2023 about Altman?", OUTLETS, now=NOW)
    assert plan.outlets == ["TechCrunch"] and plan.days == [date(2023, 10, 7)]
    assert plan.clauses[0].day == date(2023, 10, 7)
    assert plan_query("What happened last week?", OUTLETS, now=NOW).since == datetime(2025, 3, 29, 12, tzinfo=UTC)
    assert plan_query("Any news in the past 3 days?", OUTLETS, now=NOW).since == datetime(2025, 4, 2, 12, tzinfo=UTC)
    assert plan_query("Is the summit scheduled?", OUTLETS, now=NOW).status
    assert not plan_query("Who founded TechCrunch?", OUTLETS, now=NOW).status
    assert find_days("between 2 April 2025 and 2025-04-05") == [(8, date(2025, 4, 2)), (25, date(2025, 4, 5))]


def test_each_outlet_gets_the_date_written_after_it_or_a_bound() -> None:
    two = plan_query(
        "After the report by The Verge on October 7, 2023, about Altman, and the subsequent report by "
        "TechCrunch on October 13, 2023, about the board, did the story change?",
        OUTLETS,
        now=NOW,
    )
    assert [(c.outlet, c.day) for c in two.clauses] == [
        ("The Verge", date(2023, 10, 7)),
        ("TechCrunch", date(2023, 10, 13)),
    ]
    same_outlet_twice = plan_query(
        "Between the TechCrunch report published on October 7, 2023, and the TechCrunch report "
        "published on October 12, 2023, was there a change?",
        OUTLETS,
        now=NOW,
    )
    assert [c.day for c in same_outlet_twice.clauses] == [date(2023, 10, 7), date(2023, 10, 12)]
    assert [c.text for c in same_outlet_twice.clauses] == [
        "TechCrunch report published on October 7, 2023, and the ",
        "TechCrunch report published on October 12, 2023, was there a change?",
    ]
    window = plan_query(
        "Have the odds, as reported by The Verge after October 4, 2023, and before November 1, 2023, changed?",
        OUTLETS,
        now=NOW,
    ).clauses[0]
    assert (window.day, window.after, window.before) == (None, date(2023, 10, 4), date(2023, 11, 1))
    leading = plan_query("On October 7, 2023, TechCrunch reported a deal; did The Verge agree?", OUTLETS, now=NOW)
    assert [c.day for c in leading.clauses] == [date(2023, 10, 7), None]


def test_a_date_bound_limits_that_outlets_passages(retriever: HybridRetriever) -> None:
    outlets = retriever.outlets()
    terms = retriever.lexical.terms("meeting report Northline")

    def clause_days(question: str) -> set[date]:
        plan = plan_query(question, outlets, now=NOW)
        where = retriever._filter(plan, plan.clauses[0])
        assert where is not None and retriever._any(where)
        hits = retriever.lexical.top_chunks(terms, 1000, where)
        assert hits and {h.outlet for h in hits} == {"Northline Wire"}
        return {datetime.fromtimestamp(h.published_ts, UTC).date() for h in hits}

    after = clause_days("What did the Northline Wire report after 4 April 2025 about the meeting?")
    assert min(after) >= date(2025, 4, 3) and date(2025, 4, 5) in after
    before = clause_days("What did the Northline Wire report before 2 April 2025 about the meeting?")
    assert max(before) <= date(2025, 4, 3) and date(2025, 4, 1) in before


def test_outlet_names_are_not_time_words() -> None:
    outlets = [*OUTLETS, "Business Today | Latest Stock Market And Economy News India"]
    plan = plan_query("What did Business Today report about the attack?", outlets, now=NOW)
    assert plan.outlets == ["Business Today | Latest Stock Market And Economy News India"] and plan.since is None
    assert plan_query("What did TechCrunch report today?", outlets, now=NOW).since is not None
    assert plan_query("What has changed since the report on 9 November 2023?", outlets, now=NOW).since is None


def test_time_words_that_match_no_article_widen_to_all_dates(retriever: HybridRetriever) -> None:
    later = datetime(2026, 1, 1, tzinfo=UTC)  # the sample articles are from April 2025
    result = retriever.retrieve("What happened with the Putin Zelenskyy meeting last week?", 5, now=later)
    assert result.passages and result.plan.widened and result.plan.since is None
    assert "all dates" in result.plan.describe()
    explicit = retriever.retrieve("Putin Zelenskyy meeting", 5, since=later, now=later)
    assert not explicit.passages, "an explicit --since stays a hard filter"


def test_multi_part_questions_split_into_parts() -> None:
    parts = split_parts(
        "Who is the founder under 30, previously at Jane Street, who is facing seven charges of fraud, "
        "and is believed by prosecutors to have wanted power and influence?"
    )
    assert len(parts) == 3 and "Jane Street" in parts[0]
    assert "seven charges of fraud" in parts[1] and "prosecutors" in parts[2]
    assert split_parts("Is the meeting scheduled?") == []


@pytest.fixture
def retriever(sample_settings: Settings, embeddings: LocalMiniLMEmbeddings) -> HybridRetriever:
    return app_for(sample_settings, embeddings).answerer.retriever


def test_hybrid_finds_the_denial_and_records_scores(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("Which governments rejected the report of a Geneva meeting?", 5, now=NOW)
    assert result.passages and any("deny" in p.title.lower() for p in result.passages[:3])
    assert [p.rank for p in result.passages] == list(range(1, len(result.passages) + 1))
    assert result.top_dense > 0.5 and result.top_bm25 > 0
    assert {"plan", "embed", "search", "fuse", "total"} <= set(result.timings_ms)


def test_named_outlet_gets_its_own_passages(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("What did Kyiv Ledger and Alpine Courier say about a meeting?", 4, now=NOW)
    outlets = [p.outlet for p in result.passages[:2]]
    assert set(outlets) == {"Kyiv Ledger", "Alpine Courier"}


def test_filters_are_hard(retriever: HybridRetriever) -> None:
    since = datetime(2025, 4, 4, tzinfo=UTC)
    result = retriever.retrieve("Putin Zelenskyy meeting", 10, since=since, now=NOW)
    assert result.passages
    assert all(p.published_at is not None and p.published_at >= since for p in result.passages)
    only = retriever.retrieve("Putin Zelenskyy meeting", 10, outlet="kyiv ledger", now=NOW)
    assert only.passages and {p.outlet for p in only.passages} == {"Kyiv Ledger"}


def test_a_question_asks_for_each_chunks_score_once(
    retriever: HybridRetriever, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk's BM25 does not depend on a search's filter: the outlet rounds, parts and round order
    reuse what earlier searches of the same question returned instead of asking the index again."""
    question = "What did Kyiv Ledger report about the Geneva meeting, and what did Alpine Courier say about Putin?"
    # Small pools, so that sentence hits name chunks the chunk search did not return (and back).
    monkeypatch.setattr("bot.answer.retrieval._LEXICAL_POOL", 2)
    monkeypatch.setattr("bot.answer.retrieval._SENTENCE_POOL", 3)
    retriever = retriever.with_config(RetrievalConfig(candidates=2))
    before = [p.chunk_id for p in retriever.retrieve(question, 8, now=NOW).passages]
    asked: Counter[tuple[str, tuple[str, ...], str]] = Counter()
    lexical = retriever.lexical
    for name in ("chunk_scores", "best_sentence_scores"):
        original = getattr(lexical, name)

        def spy(terms: list[str], chunk_ids: list[str], _name: str = name, _original: Any = original) -> Any:
            asked.update((_name, tuple(terms), c) for c in chunk_ids)
            return _original(terms, chunk_ids)

        monkeypatch.setattr(lexical, name, spy)
    again = [p.chunk_id for p in retriever.retrieve(question, 8, now=NOW).passages]
    assert again == before
    assert asked, "the question needed scores of chunks its searches did not return"
    assert max(asked.values()) == 1, [key for key, n in asked.items() if n > 1][:3]


def test_a_question_never_opens_chromas_chunk_collection(
    sample_settings: Settings, embeddings: LocalMiniLMEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first read of any kind loads every chunk vector (memory and seconds that grow with the
    index): a question's passages come from the lexical index's stored records instead."""
    app = app_for(sample_settings, embeddings)
    expected = app.store.chunks_by_id(
        [p.chunk_id for p in app.answerer.retriever.retrieve("Geneva meeting", 5).passages]
    )
    monkeypatch.setattr(app.store, "_chunks", Untouchable("Chroma's chunk collection"))
    fresh = app_for(sample_settings, embeddings)  # a new reader process: its first question
    monkeypatch.setattr(fresh.store, "_chunks", Untouchable("Chroma's chunk collection"))
    answer = fresh.ask("Is the Putin-Zelenskyy meeting in Geneva scheduled?")
    assert answer.sources, "answered from passages read without the chunk collection"
    found = fresh.answerer.retriever.retrieve("Geneva meeting", 5).passages
    assert {p.chunk_id: (p.text, p.title, p.outlet, p.url, p.published_at, p.start, p.end) for p in found} == {
        c.id: (c.text, c.title, c.outlet, c.url, c.published_at, c.start, c.end) for c in expected.values()
    }


def test_one_article_cannot_fill_the_context(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("Putin Zelenskyy meeting Geneva venue date", 10, now=NOW)
    per_article = Counter(p.article_id for p in result.passages)
    assert max(per_article.values()) <= retriever.config.per_article
    assert len(per_article) >= 3


def test_status_questions_favour_recent_reports(retriever: HybridRetriever) -> None:
    result = retriever.retrieve("Is the Putin–Zelenskyy meeting scheduled?", 5, now=NOW)
    newest = max(p.published_at for p in result.passages if p.published_at)
    assert result.plan.status
    assert result.passages[0].published_at is not None and result.passages[0].published_at.date() >= date(2025, 4, 3)
    assert newest.date() == date(2025, 4, 5)


def _index_one_article(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> HybridRetriever:
    """One article in several small chunks: the one that says it and ones that repeat its words."""
    body = "\n\n".join(
        [
            "Regulators met on Tuesday. The airline posted results, and regulators praised the airline. "
            "Flights resumed, and flights were full. The crew were fined for a party, and cancelled flights "
            "and cancelled plans were rare, regulators said.",
            "The port reopened after the storm. Regulators fined the airline over cancelled flights. "
            "Tourists returned to the old town and filled its cafes, and the harbour was busy all weekend "
            "with ferries and fishing boats.",
            "A new bakery opened near the river, selling bread and cakes to visitors from the harbour.",
        ]
    )
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "airline.md").write_text(
        '---\ntitle: "Airline week"\noutlet: "Harbour Post"\npublished_at: "2025-04-02T10:00:00+00:00"\n---\n'
        + body
        + "\n"
    )
    settings = load_settings(None, data_dir=tmp_path / "data", chunk_tokens=56, chunk_overlap_tokens=0)
    app = app_for(settings, embeddings)
    report = app.ingest([str(folder)])
    assert not report.errors and app.store.chunk_count() >= 3
    return app.answerer.retriever


def test_the_chunk_holding_the_paraphrased_sentence_comes_first(
    tmp_path: Path, embeddings: LocalMiniLMEmbeddings
) -> None:
    retriever = _index_one_article(tmp_path, embeddings)
    question = "Was the airline fined by regulators over cancelled flights?"

    def margin(retriever: HybridRetriever) -> float:
        """Lexical score of the chunk that says it, minus that of the chunk repeating its words."""
        passages = retriever.retrieve(question, 3, now=NOW).passages
        assert "fined the airline over cancelled flights" in passages[0].text
        repeating = next(p for p in passages if "Regulators met" in p.text)
        return passages[0].bm25_score - repeating.bm25_score

    # Whole-chunk scores alone barely separate the two (tantivy's k1=1.2).
    chunks_only = retriever.with_config(RetrievalConfig.ablation("no-sentences"))
    assert chunks_only.config.sentence_weight == 0.0
    assert margin(retriever) > 2 * margin(chunks_only) > 0


def test_each_round_of_outlet_passages_is_ordered_by_match(retriever: HybridRetriever) -> None:
    """The first-named outlet does not take rank 1 when another outlet's passage matches better."""
    strength = {"a0": 0.2, "b0": 0.9, "a1": 0.5, "b1": 0.1}.__getitem__
    depth = retriever.config.clause_depth
    ranked = interleave([["a0", "a1"], ["b0", "b1"]], ["g", "a0"], depth, strength)
    assert ranked[:4] == ["b0", "a0", "a1", "b1"] and ranked[4] == "g"
    assert interleave([["a0", "a1"], ["b0", "b1"]], ["g"], depth, None)[:4] == ["a0", "b0", "a1", "b1"]
    assert interleave([["a0", "a1"], ["b0", "b1"]], ["g"], 1, None) == ["a0", "b0", "g", "a1", "b1"]


def test_config_is_frozen_and_names_the_benchmark_ablations() -> None:
    config = RetrievalConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.candidates = 5  # type: ignore[misc]
    assert RetrievalConfig.ablation("full") == config
    assert RetrievalConfig.ablation("rrf").mode == "rrf"
    assert RetrievalConfig.ablation("no-outlets") == dataclasses.replace(config, outlet_clauses=False)
    assert RetrievalConfig.ablation("no-decompose").decompose is False
    with pytest.raises(ValueError, match="unknown ablation"):
        RetrievalConfig.ablation("no-such-step")
    with pytest.raises(ValueError, match="unknown retrieval mode"):
        RetrievalConfig(mode="fancy")
