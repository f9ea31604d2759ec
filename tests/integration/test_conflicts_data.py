"""The counterfactual generator end to end on a small corpus of our own, with the real spaCy model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import conflicts_data as cd

CORPUS: list[dict[str, Any]] = [
    {
        "title": "Brightwater Systems names a new chief",
        "source": "Valley Ledger",
        "category": "technology",
        "url": "https://valleyledger.test/brightwater-chief",
        "published_at": "2025-02-03T09:00:00+00:00",
        "body": "Brightwater Systems appointed Daniel Okafor as chief executive on Monday. "
        "Daniel Okafor said he would expand the company's factory in Riverton. "
        "He joined the firm in 2015 after a decade at a rival maker of batteries. "
        "The board said the search for a new leader took six months.\n\n"
        "Analysts welcomed the choice and said the factory plan was overdue.",
    },
    {
        "title": "Brightwater to hire 300 engineers",
        "source": "Harbor Times",
        "category": "technology",
        "url": "https://harbortimes.test/brightwater-hiring",
        "published_at": "2025-02-10T09:00:00+00:00",
        "body": "Daniel Okafor told investors on Thursday that Brightwater Systems will hire 300 engineers this year. "
        "He said the Riverton factory would open next spring and cost $4.2 million to refit. "
        "The company's shares rose 4% after the announcement. "
        "Okafor also promised a new line of home batteries before the summer.",
    },
    {
        "title": "Northwind Labs founder to step down",
        "source": "Valley Ledger",
        "category": "technology",
        "url": "https://valleyledger.test/northwind-founder",
        "published_at": "2025-02-12T09:00:00+00:00",
        "body": "Helen Achterberg, the founder of Northwind Labs, said she would step down in June. "
        "Helen Achterberg said she was proud of how far the company had come. "
        "She will remain on the board as an adviser. "
        "Northwind Labs makes soil sensors for farms and employs 80 people.",
    },
    {
        "title": "Northwind Labs picks an interim chief",
        "source": "Harbor Times",
        "category": "technology",
        "url": "https://harbortimes.test/northwind-interim",
        "published_at": "2025-02-14T09:00:00+00:00",
        "body": "Northwind Labs named Samuel Reyes as its interim chief on Friday. "
        "Samuel Reyes said he would keep the current strategy and the sensor roadmap. "
        "He has worked at the company for eight years and led its sales team. "
        "The move surprised some staff, who had expected an outside hire.",
    },
    {
        "title": "Riverton site sold",
        "source": "Plains Courier",
        "category": "business",
        "url": "https://plainscourier.test/riverton-site",
        "published_at": "2025-01-20T09:00:00+00:00",
        "body": "The old Riverton glass works was sold for $3.5 million last week, the county said. "
        "A second plot nearby went for $9.8 million to a logistics group. "
        "Officials said the sales would bring new jobs to the area. "
        "The county plans to spend the money on roads and a new library.",
    },
    {
        "title": "Council approves road budget",
        "source": "Plains Courier",
        "category": "business",
        "url": "https://plainscourier.test/road-budget",
        "published_at": "2025-01-22T09:00:00+00:00",
        "body": "The county council approved a new budget for road repairs on Tuesday. "
        "The plan includes new bike lanes downtown and better lighting near the factory district. "
        "Residents can comment on the plan until Friday. "
        "The council will vote on the final version next month.",
    },
    {
        "title": "Battery makers race to hire engineers",
        "source": "Harbor Times",
        "category": "technology",
        "url": "https://harbortimes.test/battery-hiring",
        "published_at": "2025-02-18T09:00:00+00:00",
        "body": "Battery makers across the region are competing to hire engineers as demand for home storage grows. "
        "Recruiters said salaries for experienced engineers rose sharply last year. "
        "Several companies now offer to pay for relocation and training. "
        "Universities said they would expand their engineering courses.",
    },
]
OKAFOR_FACT = "Daniel Okafor told investors on Thursday that Brightwater Systems will hire 300 engineers this year."
HIRING_URL = "https://harbortimes.test/brightwater-hiring"


def question(query: str, answer: str, *evidence: tuple[str, str], kind: str = "inference_query") -> dict[str, Any]:
    """A question in MultiHop-RAG's layout; ``evidence`` is (url, fact) pairs."""
    facts = [{"url": url, "fact": fact} for url, fact in evidence]
    return {"query": query, "answer": answer, "question_type": kind, "evidence_list": facts}


QUESTIONS: list[dict[str, Any]] = [
    question(
        "Who was appointed chief executive of Brightwater Systems and told investors it will hire 300 engineers?",
        "Daniel Okafor",
        (
            "https://valleyledger.test/brightwater-chief",
            "Brightwater Systems appointed Daniel Okafor as chief executive on Monday.",
        ),
        (HIRING_URL, OKAFOR_FACT),
    ),
    question(
        "Who founded Northwind Labs and said she would step down in June?",
        "Helen Achterberg.",
        (
            "https://valleyledger.test/northwind-founder",
            "Helen Achterberg, the founder of Northwind Labs, said she would step down in June.",
        ),
    ),
    question(
        "Who did Northwind Labs name as its interim chief?",
        "Samuel Reyes",
        (
            "https://harbortimes.test/northwind-interim",
            "Northwind Labs named Samuel Reyes as its interim chief on Friday.",
        ),
    ),
    question(
        "How much will it cost to refit the Riverton factory of Brightwater Systems?",
        "$4.2 million",
        (HIRING_URL, "He said the Riverton factory would open next spring and cost $4.2 million to refit."),
    ),
    question(
        "Does Brightwater Systems plan to hire engineers, according to the Harbor Times?",
        "Yes",
        (HIRING_URL, OKAFOR_FACT),
        kind="comparison_query",
    ),
]


@pytest.fixture(scope="module")
def nlp() -> Any:
    return cd.load_nlp()


def build(tmp_path: Path, nlp: Any, seed: int = 13) -> tuple[list[dict[str, Any]], Any]:
    (tmp_path / "corpus.json").write_text(json.dumps(CORPUS))
    (tmp_path / "queries.json").write_text(json.dumps(QUESTIONS))
    articles = cd.load_corpus(tmp_path / "corpus.json")
    queries = cd.load_queries(tmp_path / "queries.json")
    return cd.build_records(articles, queries, nlp, cd.Options(seed=seed, noise=2))


def test_records_swap_the_answer_for_another_of_its_type(tmp_path: Path, nlp: Any) -> None:
    records, skipped = build(tmp_path, nlp)
    by_answer = {r["answers"][0]: r for r in records}
    assert set(by_answer) == {"Daniel Okafor", "Samuel Reyes", "$4.2 million"}
    assert skipped["not a short answer"] == 1  # the yes/no question
    # Helen Achterberg: the corpus has no other woman to put in her place ("she" must still fit).
    assert skipped["no replacement of the same type"] == 1

    okafor = by_answer["Daniel Okafor"]
    assert okafor["answers"] == ["Daniel Okafor", "Okafor"]
    assert okafor["altered_answers"] == ["Samuel Reyes", "Reyes"]  # the other man, full name and surname
    assert okafor["meta"]["answer_label"] == "PERSON"
    money = by_answer["$4.2 million"]
    assert money["meta"]["answer_label"] == "MONEY"
    assert money["altered_answers"][0] in {"$3.5 million", "$9.8 million"}  # same shape, from the corpus

    for record in records:
        kinds = [d["kind"] for d in record["documents"]]
        true = [d["text"] for d in record["documents"] if d["kind"] == "true"]
        altered = [d["text"] for d in record["documents"] if d["kind"] == "altered"]
        noise = [d["text"] for d in record["documents"] if d["kind"] == "noise"]
        assert kinds.count("true") == kinds.count("altered") >= 1 and kinds.count("noise") == 2
        for t, a in zip(true, altered, strict=True):
            assert cd.mentions_any(t, record["answers"]) and not cd.mentions_any(t, record["altered_answers"])
            assert cd.mentions_any(a, record["altered_answers"]) and not cd.mentions_any(a, record["answers"])
            assert len(cd.split_sentences(t)[0]) >= 3  # a snippet, not a bare sentence
            assert cd.swap(a, dict(zip(record["altered_answers"], record["answers"], strict=True))) == t
        for n in noise:
            assert not cd.mentions_any(n, record["answers"] + record["altered_answers"])
            assert all(n not in t for t in true)

    # The true snippet holds the evidence fact and the sentences around it.
    assert any("appointed Daniel Okafor as chief executive" in d["text"] for d in okafor["documents"])


def test_the_set_is_deterministic_and_split_by_id(tmp_path: Path, nlp: Any) -> None:
    first, _ = build(tmp_path, nlp)
    again, _ = build(tmp_path, nlp)
    assert first == again
    paths = cd.write_split(first, tmp_path / "out")
    written = {split: [json.loads(line) for line in path.read_text().splitlines()] for split, path in paths.items()}
    assert sum(len(v) for v in written.values()) == len(first)
    for split, records in written.items():
        assert all(r["meta"]["split"] == split == cd.split_of(r["id"]) for r in records)
    stats = cd.statistics(first)
    assert stats["dev"]["records"] + stats["test"]["records"] == 3
    assert sum(stats[s]["documents"].get("noise", 0) for s in ("dev", "test")) == 6


def test_the_command_writes_dev_and_test_files_and_statistics(tmp_path: Path) -> None:
    (tmp_path / "corpus.json").write_text(json.dumps(CORPUS))
    (tmp_path / "queries.json").write_text(json.dumps(QUESTIONS))
    out = tmp_path / "out"
    files = ["--corpus", str(tmp_path / "corpus.json"), "--queries", str(tmp_path / "queries.json")]
    code = cd.main([*files, "--out", str(out), "--noise", "2"])
    assert code == 0
    stats = json.loads((out / "stats.json").read_text())
    lines = sum(len((out / f"conflicts-{s}.jsonl").read_text().splitlines()) for s in ("dev", "test"))
    assert lines == stats["dev"]["records"] + stats["test"]["records"] == 3
    assert stats["skipped"]["not a short answer"] == 1
    assert cd.main(["--corpus", str(tmp_path / "missing.json"), "--queries", "x", "--out", str(out)]) == 2
