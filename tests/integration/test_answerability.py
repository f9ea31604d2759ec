"""Answerability on a small index of local-news pages written for these tests (real MiniLM, spaCy, Chroma).

Questions the pages answer are answered, with the sentence that holds the answer;
questions they do not answer are refused, with the reason. The pages' wording was
never used to set a threshold (those come from MultiHop-RAG dev).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from bot.answer.chain import RefusalPolicy
from bot.app import Factdesk
from bot.core.models import Passage
from bot.core.settings import load_settings
from bot.verify.answerability import ANSWER_TYPES_FILE, Answerability, AnswerTypes, Evidence
from index.embeddings import LocalMiniLMEmbeddings

PAGES = Path(__file__).resolve().parents[1] / "data" / "local_news"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, embeddings: LocalMiniLMEmbeddings) -> Iterator[Factdesk]:
    data_dir = tmp_path_factory.mktemp("local-news")
    with Factdesk.from_settings(load_settings(None, data_dir=data_dir), embeddings=embeddings) as factdesk:
        report = factdesk.ingest([str(PAGES)])
        assert not report.errors and report.count("added") == 3
        yield factdesk


@pytest.fixture(scope="module")
def check() -> Answerability:
    return Answerability()


Assess = Callable[[str, Sequence[Passage]], Evidence]


@pytest.fixture(scope="module")
def assess(check: Answerability, embeddings: LocalMiniLMEmbeddings) -> Assess:
    """``check.assess`` with the cosine signals measured as retrieval would (MiniLM, question vs passage)."""

    def run(question: str, passages: Sequence[Passage]) -> Evidence:
        query = np.asarray(embeddings.embed_query(question))
        vectors = np.asarray(embeddings.embed_documents([p.text for p in passages]))
        top = float(max(vectors @ query / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(query))))
        return check.assess(question, passages, top >= RefusalPolicy().bar(question), top)

    return run


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What caused the Mill Lane fire?", "electrical fault"),
        ("How many firefighters fought the warehouse fire?", "60 firefighters"),
        ("Who scored the winning penalty in the County Cup final?", "Ellis Grant"),
        ("By how many votes did the council approve the budget?", "27 votes to 19"),
        ("How much is the council's shortfall?", "£6.2 million"),
        ("Who owns the warehouse that burned down?", "Halden Home"),
    ],
)
def test_questions_the_pages_answer_are_answered_with_the_answer(app: Factdesk, question: str, expected: str) -> None:
    answer = app.ask(question)
    assert not answer.refused, answer.notes
    assert expected in answer.text


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("Who won the Alpine Cup?", "no passage mentions the Alpine Cup"),
        ("What did Vladimir Putin say about the Mill Lane fire?", "no passage mentions Vladimir Putin"),
        ("When does the Alpine Cup final start?", "no passage mentions the Alpine Cup"),
        ("How much did the Harriers pay for their new stadium?", "Why:"),
    ],
)
def test_questions_the_pages_do_not_answer_are_refused_with_the_reason(
    app: Factdesk, question: str, reason: str
) -> None:
    answer = app.ask(question)
    assert answer.refused
    assert any(reason in note for note in answer.notes), answer.notes


@pytest.mark.xfail(
    strict=True,
    reason="known gap: a time of the fire ('overnight') counts as a when-answer; telling 'reopen' from "
    "'destroyed' needs the question's predicate matched in meaning, which no offline model here does",
)
def test_a_when_question_about_another_event_of_the_story_is_refused(app: Factdesk) -> None:
    assert app.ask("When will the Mill Lane warehouse reopen?").refused


def test_a_fact_at_the_end_of_a_long_passage_is_found(check: Answerability, assess: Assess) -> None:
    """The old check embedded a chunk's first 128 tokens; the fact here sits after 200 words of other news."""
    filler = " ".join(f"Councillors discussed item {n} of the agenda at length." for n in range(25))
    passage = _passage(filler + " The Soho Arms pub is being sold for £2.7 million to a local brewer.")
    evidence = assess("How much is the Soho Arms pub being sold for?", [passage])
    assert evidence.answerable
    assert evidence.candidate == "£2.7 million"


def test_a_name_the_passages_never_mention_refuses_even_when_the_topic_matches(assess: Assess) -> None:
    passage = _passage("Halden Home said staff at the Mill Lane warehouse would be paid while it looks for premises.")
    evidence = assess("What did Tom Ashworth say about the Mill Lane warehouse?", [passage])
    assert not evidence.answerable
    assert evidence.missing == ("Tom Ashworth",)


def test_a_typed_question_needs_a_candidate_that_is_not_in_the_question(assess: Assess) -> None:
    passage = _passage("Brackenford Harriers play Oakmere Town in the County Cup final at Riverside Park.")
    evidence = assess("When do Brackenford Harriers play Oakmere Town?", [passage])
    assert not evidence.answerable and evidence.typed
    dated = _passage("Brackenford Harriers play Oakmere Town in the County Cup final on 5 June at Riverside Park.")
    assert assess("When do Brackenford Harriers play Oakmere Town?", [dated]).answerable


def test_the_answer_types_file_loads_and_its_schema_rejects_unknown_labels(tmp_path: Path) -> None:
    types = AnswerTypes.load()
    assert "PERSON" in types.phrases["who"] and "MONEY" in types.phrases["how much"]
    raw = json.loads(ANSWER_TYPES_FILE.read_text(encoding="utf-8"))
    raw["phrases"]["who"] = ["PEOPLE"]
    bad = tmp_path / "types.json"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValidationError, match="unknown labels"):
        AnswerTypes.load(bad)


def _passage(text: str) -> Passage:
    return Passage(
        chunk_id="c1",
        article_id="a1",
        text=text,
        title="Local news",
        outlet="Brackenford Courier",
        url=None,
        published_at=None,
        start=0,
        end=len(text),
    )


def test_a_cited_source_no_passage_is_from_refuses(assess: Assess) -> None:
    passage = _passage("Brackenford Harriers won the County Cup on penalties, beating Oakmere Town at Riverside Park.")
    evidence = assess("According to the Oakmere Echo, who won the County Cup at Riverside Park?", [passage])
    assert not evidence.answerable
    assert [m for m in evidence.missing if "Oakmere Echo" in m], evidence.missing


def test_one_missing_name_among_several_does_not_refuse(assess: Assess) -> None:
    """A multi-hop question names facts the passages may not all hold; most of its names suffice."""
    passage = _passage(
        "Brackenford Harriers won the County Cup, beating Oakmere Town 5-4 on penalties at Riverside Park."
    )
    question = "Which club beat Oakmere Town at Riverside Park after losing to Kellham Rovers in March?"
    evidence = assess(question, [passage])
    assert evidence.answerable, evidence.reason


def test_where_a_question_was_reported_is_not_part_of_what_it_asks(check: Answerability) -> None:
    """ "as reported by one outlet", "according to the Oakmere Echo": passages do not repeat these words."""
    needs = check.needs(
        "Which club, as reported by one outlet and according to the Oakmere Echo, beat Oakmere Town on penalties?"
    )
    assert {"report", "outlet", "accord", "echo"}.isdisjoint(needs.words), needs.words
    assert {"beat", "penalti"} <= needs.words
    # A report that is the topic, not the source, stays a word to find.
    assert "report" in check.needs("What did the council's budget report find about the shortfall?").words


def test_the_noun_naming_what_is_asked_for_is_not_a_word_to_find(check: Answerability) -> None:
    assert {"pop", "star"}.isdisjoint(check.needs("Which pop star played Riverside Park in June?").words)
    assert "individual" not in check.needs("Who is the individual who bought the Soho Arms pub?").words
    assert "club" not in check.needs("What is the name of the club that won the County Cup?").words
    assert "club" in check.needs("When did the club win the County Cup?").words
    # A question that is little more than the noun is about it: its words stay.
    assert {"banana", "recip"} <= check.needs("What is the best banana bread recipe?").words


def test_a_name_given_as_its_initials_is_found_spelled_out(assess: Assess) -> None:
    passage = _passage("European Union regulators warned Halden Home about its delivery contracts on Monday.")
    evidence = assess("Which company did EU regulators warn about delivery contracts?", [passage])
    assert "EU" not in evidence.absent_names and evidence.answerable, evidence.reason
    other = assess("Which company did ITC regulators warn about delivery contracts?", [passage])
    assert other.absent_names == ("ITC",)


def _article(text: str, n: int) -> Passage:
    return Passage(
        chunk_id=f"c{n}",
        article_id=f"a{n}",
        text=text,
        title=f"Outlet {n} report",
        outlet=f"Outlet {n}",
        url=None,
        published_at=None,
        start=0,
        end=len(text),
    )


MULTI_HOP = [
    "Halden Home opened a second warehouse on Mill Lane, hiring forty staff from the town.",
    "Customers praised Halden Home for next-day delivery of sofas and beds across the county.",
    "Halden Home was fined by trading standards over misleading discount labels in its showroom.",
]


def test_a_multi_hop_question_is_answered_by_the_name_its_passages_share(assess: Assess) -> None:
    """Each passage holds one fact of the question and names the answer; no sentence covers it all,
    and the question's other name (Kellham Council, a detail of a fact none prints) is absent."""
    question = (
        "Which company, praised for next-day delivery of sofas, was fined over misleading discount labels "
        "and opened a second warehouse on Mill Lane approved by Kellham Council?"
    )
    evidence = assess(question, [_article(t, n) for n, t in enumerate(MULTI_HOP)])
    assert evidence.answerable, evidence.to_dict()
    assert evidence.candidate == "Halden Home" and evidence.candidate_coverage >= 0.5


def test_passages_sharing_a_name_do_not_answer_a_question_about_other_facts(assess: Assess) -> None:
    question = (
        "Which company, sued by Kellham Council over unpaid rates, moved its head office to Leeds "
        "and appointed Tom Ashworth as chief executive?"
    )
    evidence = assess(question, [_article(t, n) for n, t in enumerate(MULTI_HOP)])
    assert not evidence.answerable, evidence.to_dict()


def test_a_question_is_read_once_for_the_check_and_the_engine(check: Answerability) -> None:
    question = "Who owns the Mill Lane warehouse that burned down?"
    needs = check.needs(question)
    assert check.needs(question) is needs
    assert check.needs("Who owns the Soho Arms pub?") is not needs
