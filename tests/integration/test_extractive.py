"""The offline extractive engine on sources built from the sample corpus (real MiniLM embeddings)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.answer.extractive import ExtractiveEngine, is_status_question
from bot.core.models import Passage, Source
from bot.core.text.negation import stance
from bot.verify.citations import NOT_IN_SOURCES, CitationVerifier, VectorCache
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import SAMPLE_CORPUS

NOW = datetime(2025, 4, 6, 12, 0, tzinfo=UTC)
STORY = [  # in a retrieval-like order: numbers 1..8
    "2025-04-05-no-date-or-venue-northline.md",
    "2025-04-03-wire-denial-northline.md",
    "2025-04-02-geneva-mid-april-harbour.md",
    "2025-04-04-kyiv-foreign-ministry-briefing.md",
    "2025-04-02-kremlin-no-date-northline.md",
    "2025-04-04-disinfo-post.md",
    "2025-04-01-meeting-discussed-northline.md",
    "2025-04-01-kyiv-ready-to-meet.md",
]


def article(name: str) -> tuple[dict[str, str], str]:
    """Front matter (flat ``key: "value"`` lines) and body of a sample article."""
    raw = (SAMPLE_CORPUS / name).read_text(encoding="utf-8")
    _, front, body = raw.split("---", 2)
    meta = {}
    for line in front.strip().splitlines():
        key, value = line.split(":", 1)
        meta[key.strip()] = value.strip().strip('"')
    return meta, body.strip()


def corpus_source(number: int, name: str, paragraphs_per_passage: int = 3) -> Source:
    """A source whose passages are groups of the article's paragraphs (as chunks would be)."""
    meta, body = article(name)
    published = datetime.fromisoformat(meta["published_at"]) if "published_at" in meta else None
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    passages = []
    for i in range(0, len(paragraphs), paragraphs_per_passage):
        text = "\n\n".join(paragraphs[i : i + paragraphs_per_passage])
        start = body.index(paragraphs[i])
        passages.append(
            Passage(
                chunk_id=f"{name}:{i:04d}",
                article_id=name,
                text=text,
                title=meta["title"],
                outlet=meta["outlet"],
                url=meta.get("url"),
                published_at=published,
                start=start,
                end=start + len(text),
            )
        )
    return Source(number, name, meta["title"], meta["outlet"], meta.get("url"), published, tuple(passages))


def text_source(number: int, text: str, title: str, day: int) -> Source:
    published = datetime(2025, 4, day, 9, 0, tzinfo=UTC)
    passage = Passage(f"t{number}:0", f"t{number}", text, title, "Test Wire", None, published, 0, len(text))
    return Source(number, f"t{number}", title, "Test Wire", None, published, (passage,))


@pytest.fixture(scope="module")
def story_sources() -> list[Source]:
    return [corpus_source(i, name) for i, name in enumerate(STORY, 1)]


@pytest.fixture
def engine(embeddings: LocalMiniLMEmbeddings) -> ExtractiveEngine:
    return ExtractiveEngine(embeddings)


def number_of(sources: list[Source], name: str) -> int:
    return next(s.number for s in sources if s.article_id == name)


# ---------------------------------------------------------------- status answers
def test_status_question_leads_with_no_as_of_the_newest_source(
    engine: ExtractiveEngine, story_sources: list[Source]
) -> None:
    answer = engine.answer("Is the Putin–Zelenskyy meeting scheduled?", story_sources, status_question=True, now=NOW)
    lead, lead_cites = answer[0]
    newest = number_of(story_sources, "2025-04-05-no-date-or-venue-northline.md")
    assert lead.startswith("No — ")
    assert "as of 5 April 2025" in lead
    assert "no date or venue has been set" in lead
    assert newest in lead_cites
    text = " ".join(sentence for sentence, _ in answer)
    geneva = number_of(story_sources, "2025-04-02-geneva-mid-april-harbour.md")
    assert "Geneva" in text and "denied" in text
    disagreement = [i for i, (sentence, _) in enumerate(answer) if sentence.startswith("An earlier report")]
    assert disagreement and answer[disagreement[0]][1] == (geneva,)
    denied = answer[disagreement[0] + 1]
    assert denied[0] == "That report was later denied." and denied[1] and geneva not in denied[1]
    assert all(cites for _, cites in answer)
    assert len(answer) <= engine.max_sentences
    assert {n for _, cites in answer for n in cites} <= {s.number for s in story_sources}


def test_status_answer_survives_verification(embeddings: LocalMiniLMEmbeddings, story_sources: list[Source]) -> None:
    cache = VectorCache(embeddings)
    engine = ExtractiveEngine(embeddings, cache=cache)
    verifier = CitationVerifier(embeddings, cache=cache)
    answer = engine.answer("Is the Putin–Zelenskyy meeting scheduled?", story_sources, status_question=True, now=NOW)
    result = verifier.verify(answer, story_sources)
    assert result.dropped == 0
    assert [s.text for s in result.sentences] == [text for text, _ in answer]
    assert result.support_score > 0.9


def test_has_it_happened_and_status_without_yes_no(engine: ExtractiveEngine, story_sources: list[Source]) -> None:
    happened = engine.answer("Has the Putin-Zelenskyy meeting happened?", story_sources, status_question=True, now=NOW)
    assert happened[0][0].startswith("No — as of 5 April 2025, ")
    latest = engine.answer(
        "What is the latest on the Putin-Zelenskyy meeting?", story_sources, status_question=True, now=NOW
    )
    assert latest[0][0].startswith("As of 5 April 2025, ")  # a status question, but not a yes/no one


def test_as_of_ignores_sources_dated_after_now(engine: ExtractiveEngine, story_sources: list[Source]) -> None:
    answer = engine.answer(
        "Is the Putin–Zelenskyy meeting scheduled?",
        story_sources,
        status_question=True,
        now=datetime(2025, 4, 4, 12, 0, tzinfo=UTC),
    )
    assert "5 April" not in answer[0][0]


def test_newest_affirmation_leads_with_yes_and_notes_earlier_denials(engine: ExtractiveEngine) -> None:
    sources = [
        text_source(
            1,
            "Officials said on Wednesday that no date has been set for the Vienna summit between the two "
            "leaders. Talks continue at expert level, diplomats said.",
            "No date for Vienna summit",
            2,
        ),
        text_source(
            2,
            "The Vienna summit between the two leaders has been confirmed for 14 April, both governments "
            "said on Saturday. Austrian police began security preparations in the city centre.",
            "Vienna summit confirmed for 14 April",
            5,
        ),
    ]
    answer = engine.answer("Is the Vienna summit confirmed?", sources, status_question=True, now=NOW)
    assert answer[0] == (
        "Yes — as of 5 April 2025, the Vienna summit between the two leaders has been confirmed for "
        "14 April, both governments said on Saturday.",
        (2,),
    )
    assert ("Earlier reports said otherwise.", (1,)) in answer


def test_mixed_newest_statement_leads_with_unclear(engine: ExtractiveEngine) -> None:
    sources = [
        text_source(
            1,
            "The Vienna summit was confirmed by Moscow on Monday, but no venue has been chosen for it. "
            "Kyiv has not commented on the plans.",
            "Summit plans",
            5,
        )
    ]
    answer = engine.answer("Is the Vienna summit confirmed?", sources, status_question=True, now=NOW)
    assert answer[0][0].startswith("Unclear — as of 5 April 2025, the Vienna summit was confirmed by Moscow")


def test_non_status_question_has_no_lead(engine: ExtractiveEngine, story_sources: list[Source]) -> None:
    answer = engine.answer("Which venues were floated for the meeting?", story_sources, status_question=False)
    assert not re.match(r"^(Yes|No|Unclear) — ", answer[0][0])
    assert "Budapest" in answer[0][0] and "Istanbul" in answer[0][0]
    words = " ".join(text for text, _ in answer)
    assert words.count("Switzerland, Budapest and Istanbul") <= 2  # repeats of one fact are removed


def test_a_preview_gives_way_to_the_later_report_of_the_outcome(engine: ExtractiveEngine) -> None:
    preview = corpus_source(1, "2025-04-03-quillon-results-preview.md")
    results = corpus_source(2, "2025-04-04-quillon-q1-results.md")
    answer = engine.answer("How did Quillon do in Q1?", [preview, results], status_question=False, now=NOW)
    lead, cites = answer[0]
    assert lead.startswith("Quillon Systems reported higher-than-expected revenue") and cites == (2,)
    # The superseded look-ahead ("will report results ... on Friday") is not repeated as support.
    assert not any("will report results" in text for text, _ in answer)


def test_a_preview_still_leads_when_nothing_later_reports_the_outcome(engine: ExtractiveEngine) -> None:
    preview = corpus_source(1, "2025-04-03-quillon-results-preview.md")
    answer = engine.answer("When will Quillon report Q1 results?", [preview], status_question=False, now=NOW)
    assert "will report results" in answer[0][0] and answer[0][1] == (1,)


def test_a_quotation_spanning_sentences_is_kept_whole(engine: ExtractiveEngine) -> None:
    geneva = corpus_source(1, "2025-04-02-geneva-mid-april-harbour.md")
    answer = engine.answer("What did the diplomat say about Geneva?", [geneva], status_question=False, now=NOW)
    quoted = next(text for text, _ in answer if "The decision on Geneva has been taken" in text)
    assert quoted.endswith("the diplomat said.") and quoted.count('"') == 2


def test_when_question_is_not_answered_yes_or_no(engine: ExtractiveEngine, story_sources: list[Source]) -> None:
    answer = engine.answer("When will the Geneva meeting take place?", story_sources, status_question=True, now=NOW)
    assert answer[0][0].startswith("As of 5 April 2025, ")


def test_unrelated_question_gets_the_fixed_refusal(engine: ExtractiveEngine, story_sources: list[Source]) -> None:
    answer = engine.answer("What is the recipe for banana bread?", story_sources, status_question=False)
    assert answer == [(NOT_IN_SOURCES, ())]
    assert engine.answer("Anything?", [], status_question=False) == [(NOT_IN_SOURCES, ())]


# ---------------------------------------------------------------- redundancy and citations
def test_near_identical_sentences_give_one_sentence_with_two_citations(engine: ExtractiveEngine) -> None:
    sources = [
        text_source(
            1,
            "Kremlin spokesman Dmitry Peskov said on Thursday that there is no date and no venue for the "
            "meeting. Separately, the city council approved a new budget for the central library.",
            "Kremlin: no date, no venue",
            3,
        ),
        text_source(
            2,
            "The harbour tram line carried 38,200 passengers on its first day. Kremlin spokesman Dmitry "
            "Peskov said on Thursday there is no date and no venue for a meeting.",
            "Tram and Kremlin briefs",
            3,
        ),
        text_source(
            3,
            "Quillon Systems reported revenue of $2.41 billion for its first quarter, above forecasts.",
            "Quillon beats forecasts",
            4,
        ),
    ]
    answer = engine.answer("What did Peskov say about the meeting?", sources, status_question=False)
    peskov = [(text, cites) for text, cites in answer if "Peskov" in text]
    assert len(peskov) == 1
    assert peskov[0][1] == (1, 2)


# ---------------------------------------------------------------- prompt injection
def test_injection_is_never_selected_for_other_questions(engine: ExtractiveEngine, story_sources: list[Source]) -> None:
    for question, status in [
        ("Has the Putin-Zelenskyy meeting happened?", True),
        ("How many times was the fake Geneva post shared?", False),
        ("Did Putin and Zelenskyy meet in Geneva?", True),
    ]:
        answer = engine.answer(question, story_sources, status_question=status, now=NOW)
        text = " ".join(sentence for sentence, _ in answer)
        assert "CONFIRMED" not in text
        assert "Ignore previous instructions" not in text
        assert "met in secret in Geneva last night" not in text
        assert not text.strip().startswith("Yes")
        assert all(cites for sentence, cites in answer if sentence != NOT_IN_SOURCES)


def test_injection_is_quoted_with_a_citation_only_when_asked_about(engine: ExtractiveEngine) -> None:
    disinfo = corpus_source(1, "2025-04-04-disinfo-post.md")
    answer = engine.answer("What instructions did the fake post give to AI chatbots?", [disinfo], status_question=False)
    assert answer != [("CONFIRMED", ())]
    assert all(cites == (1,) for _, cites in answer)  # reported as data from source 1, never obeyed


# ---------------------------------------------------------------- helpers
@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("As of 5 April, no date or venue has been set for a meeting between Putin and Zelenskyy.", "deny"),
        ('"No date has been agreed," Kremlin spokesman Dmitry Peskov told reporters.', "deny"),
        ("Reports that a meeting has been scheduled in Geneva do not correspond to reality.", "deny"),
        ("Russia and Ukraine both denied that a meeting had been scheduled.", "deny"),
        ("No meeting has taken place, and none has been scheduled.", "deny"),
        ("The meeting is not scheduled.", "deny"),
        ("The date of the meeting remains uncertain.", "deny"),
        ("A meeting between Putin and Zelenskyy is scheduled for mid-April in Geneva.", "affirm"),
        ("The two leaders met in Geneva on Tuesday.", "affirm"),
        ("The summit has been confirmed for 14 April.", "affirm"),
        ("A meeting is being discussed, and could take place in Istanbul.", "uncertain"),
        ("The meeting may be scheduled for May.", "uncertain"),
        ("The summit was confirmed on Monday but no venue has been chosen.", "uncertain"),
        ("Quillon's revenue rose 12% to $2.41 billion.", "neutral"),
        (
            "Later on Wednesday, The Harbour Post reported that the meeting was scheduled for mid-April.",
            "neutral",
        ),
    ],
)
def test_stance(sentence: str, expected: str) -> None:
    assert stance(sentence) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Is the Putin–Zelenskyy meeting scheduled?", True),
        ("Has the meeting happened?", True),
        ("Did Putin and Zelenskyy meet?", True),
        ("Is the Geneva summit confirmed?", True),
        ("Are the talks still going ahead?", True),
        ("What is the latest on the tram line?", True),
        ("Was the final postponed?", True),
        ("Who won the Alpine Cup?", False),
        ("How much revenue did Quillon report?", False),
        ("Which venues were floated?", False),
        ("Is Quillon profitable?", False),
    ],
)
def test_is_status_question(question: str, expected: bool) -> None:
    assert is_status_question(question) is expected
