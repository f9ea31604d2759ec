"""The evaluation harness: the benchmark authors' retrieval metric, the answer figures, and
``factdesk eval multihop`` end to end on a small corpus in MultiHop-RAG's format (real index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.app import _register, app
from bot.eval.multihop import AnswerScores, Query, evaluate_retrieval, load_queries

FACT_A = "The council approved the harbour tunnel on Monday."
FACT_B = "Construction will start in May and cost 40 million."


def query(text: str, *facts: str, kind: str = "inference_query", answer: str = "") -> Query:
    return Query(query=text, answer=answer, question_type=kind, facts=facts)


def test_authors_metric_ignores_spaces_and_newlines_and_ranks_the_first_relevant_chunk() -> None:
    chunks = {
        # The fact is found across a line break and doubled spaces: the authors strip both.
        "q1": ["noise", "noise", "The council approved the\nharbour  tunnel on Monday. More text."],
        "q2": ["nothing here"] * 10 + [FACT_A],  # relevant only at rank 11: outside the top 10
        "q3": [FACT_A + " " + FACT_B],  # one chunk holds both facts
        "q4": [FACT_A, "other", FACT_B.lower()],  # case matters: the second fact is not found
    }
    queries = [
        query("q1", FACT_A),
        query("q2", FACT_A),
        query("q3", FACT_A, FACT_B),
        query("q4", FACT_A, FACT_B),
        query("null", kind="null_query"),  # skipped: it has no evidence
    ]
    asked: list[str] = []

    def search(question: str, k: int) -> list[str]:
        asked.append(question)
        return chunks[question]

    summary = evaluate_retrieval(queries, search, k=10).summary()
    assert asked == ["q1", "q2", "q3", "q4"]
    assert summary["queries"] == 4
    assert summary["hits@10"] == pytest.approx(3 / 4)
    assert summary["hits@4"] == pytest.approx(3 / 4)
    assert summary["mrr@10"] == pytest.approx((1 / 3 + 0 + 1 + 1) / 4)
    assert summary["evidence_recall@10"] == pytest.approx(4 / 6)  # q1 1/1, q2 0/1, q3 2/2, q4 1/2
    assert summary["full_evidence@10"] == pytest.approx(2 / 4)


def test_answer_figures_count_refusals_gold_answers_and_engines() -> None:
    scores = AnswerScores()
    scores.add(query("n1", kind="null_query"), True, "The indexed articles don't say.", 0, 10.0, engine="extractive")
    scores.add(query("n2", kind="null_query"), False, "Something.", 100, 20.0, engine="llm")
    scores.add(query("i1", FACT_A, answer="Harbour Council"), False, "The harbour council said…", 200, 30.0, "llm")
    scores.add(query("i2", FACT_A, answer="Port Ellery"), False, "Unrelated.", 300, 40.0, "extractive")
    scores.add(query("c1", FACT_A, kind="comparison_query"), True, "The indexed articles don't say.", 400, 50.0)
    summary = scores.summary()
    assert summary["null_refusal_rate"] == pytest.approx(1 / 2)
    assert summary["false_refusal_rate"] == pytest.approx(1 / 3)
    assert summary["inference_answer_contains_gold"] == pytest.approx(1 / 2)  # case-insensitive match
    assert summary["prompt_tokens_per_answer"] == pytest.approx(300.0)  # answerable queries only
    assert summary["answered_queries"] == 5
    assert summary["answers_by_engine"] == {"extractive": 1, "llm": 2, "refusal": 2}


def write_benchmark(folder: Path) -> tuple[Path, Path]:
    """Three articles and four queries in the authors' JSON layout."""
    articles = [
        {
            "title": "Council approves harbour tunnel",
            "author": "A. Writer",
            "source": "Harbour Post",
            "published_at": "2025-03-03T09:00:00+00:00",
            "category": "local",
            "url": "https://harbourpost.test/tunnel",
            "body": f"{FACT_A} The vote was 7 to 2 after a long debate about traffic and noise.\n\n{FACT_B}",
        },
        {
            "title": "Rovers win the regional cup",
            "author": "B. Writer",
            "source": "Sport Daily",
            "published_at": "2025-03-04T20:00:00+00:00",
            "category": "sports",
            "url": "https://sportdaily.test/cup",
            "body": "Rovers beat City 3-1 in the regional cup final on Tuesday night. Their keeper saved a penalty.",
        },
        {
            "title": "Bakery chain opens tenth shop",
            "author": "C. Writer",
            "source": "Market Street Journal",
            "published_at": "2025-03-05T08:00:00+00:00",
            "category": "business",
            "url": "https://msj.test/bakery",
            "body": "The Crumb & Co bakery chain opened its tenth shop on Wednesday, hiring 12 new staff.",
        },
    ]
    evidence = {"title": "", "author": "", "url": "", "source": "", "category": "", "published_at": ""}
    queries = [
        {
            "query": "What did the council approve on Monday, according to the Harbour Post?",
            "answer": "the harbour tunnel",
            "question_type": "inference_query",
            "evidence_list": [{**evidence, "fact": FACT_A}],
        },
        {
            "query": "Who won the regional cup final, and what did the keeper do?",
            "answer": "Rovers",
            "question_type": "inference_query",
            "evidence_list": [{**evidence, "fact": "Rovers beat City 3-1 in the regional cup final on Tuesday night."}],
        },
        {
            "query": "How many shops does the Crumb & Co bakery chain have after Wednesday?",
            "answer": "ten",
            "question_type": "comparison_query",
            "evidence_list": [{**evidence, "fact": "The Crumb & Co bakery chain opened its tenth shop on Wednesday"}],
        },
        {
            "query": "What did the Mars rover find in the Jezero crater last winter?",
            "answer": "Insufficient information.",
            "question_type": "null_query",
            "evidence_list": [],
        },
    ]
    corpus_path, queries_path = folder / "corpus.json", folder / "queries.json"
    corpus_path.write_text(json.dumps(articles))
    queries_path.write_text(json.dumps(queries))
    return corpus_path, queries_path


def test_eval_multihop_indexes_once_and_prints_every_figure(tmp_path: Path) -> None:
    corpus, queries = write_benchmark(tmp_path)
    assert len(load_queries(queries)) == 4
    _register()
    runner = CliRunner()
    args = ["--env-file", "/nonexistent.env", "--data-dir", str(tmp_path / "data"), "eval", "multihop"]
    args += ["--corpus", str(corpus), "--queries", str(queries), "--json", str(tmp_path / "figures.json")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "3 added" in result.stderr
    figures = json.loads((tmp_path / "figures.json").read_text())
    retrieval, answers = figures["retrieval"], figures["answers"]
    assert retrieval["queries"] == 3  # the null query is not scored for retrieval
    assert retrieval["hits@10"] == 1.0 and retrieval["full_evidence@10"] == 1.0  # three articles, top 10
    assert retrieval["mrr@10"] > 0.5
    assert answers["answered_queries"] == 4
    assert answers["null_refusal_rate"] == 1.0  # nothing indexed is about Mars
    assert answers["false_refusal_rate"] == 0.0
    assert answers["answers_by_engine"] == {"extractive": 3, "refusal": 1}
    assert figures["config"]["engine"] == "extractive" and figures["config"]["chunk_tokens"] == 256
    for name in ("hits@4", "mrr@10", "evidence_recall@10", "full_evidence@10", "answer_p50_ms"):
        assert name in result.stderr  # the table on stderr

    again = runner.invoke(app, args)  # the index built from the same corpus is reused
    assert again.exit_code == 0 and "0 added, 3 unchanged" in again.stderr
