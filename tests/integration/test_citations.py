"""Citation parsing, rendering and verification against hand-built sources (real MiniLM embeddings)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.core.models import CitedSentence, Passage, Source
from bot.verify.citations import (
    NOT_IN_SOURCES,
    CitationVerifier,
    VectorCache,
    content_words,
    earlier_report_sentence,
    render,
    split_cited_sentences,
)
from bot.verify.facts import FactSupport, FactVerdict
from index.embeddings import LocalMiniLMEmbeddings

KREMLIN = (
    "The Kremlin said on Wednesday that no date had been agreed for a meeting between Vladimir Putin and "
    "Volodymyr Zelenskyy. Kremlin spokesman Dmitry Peskov said it was premature to talk about a venue. "
    "He said contacts with the United States were continuing."
)
KYIV = (
    "Ukraine's foreign ministry said on Friday that no date or venue had been agreed for a meeting of the "
    "presidents. Spokesman Taras Hrytsenko said Foreign Minister Andrii Sybiha would meet US envoy Daniel "
    "Reyes next week."
)
QUILLON = (
    "Quillon Systems said revenue rose 12% to $2.41 billion in its first quarter. Its cloud security "
    "business grew 19% to $1.38 billion. The shares rose 6.4% in after-hours trading."
)
CUP = (
    "FC Lindenberg beat Rheinau Rovers 2-1 after extra time in the Alpine Cup final on Friday. "
    "Luca Meier scored the winner in the 112th minute. A crowd of 31,450 watched the match."
)


def make_source(number: int, text: str, title: str = "", day: int = 2) -> Source:
    """A one-passage source; the title defaults to the first words of the text."""
    published = datetime(2025, 4, day, 9, 0, tzinfo=UTC)
    title = title or " ".join(text.split()[:6])
    passage = Passage(
        chunk_id=f"a{number}:0000",
        article_id=f"a{number}",
        text=text,
        title=title,
        outlet="Test Wire",
        url=None,
        published_at=published,
        start=0,
        end=len(text),
    )
    return Source(number, f"a{number}", title, "Test Wire", None, published, (passage,))


@pytest.fixture
def sources() -> list[Source]:
    return [
        make_source(1, KREMLIN, day=2),
        make_source(2, KYIV, day=4),
        make_source(3, QUILLON, day=4),
        make_source(4, CUP, day=5),
    ]


@pytest.fixture
def verifier(embeddings: LocalMiniLMEmbeddings) -> CitationVerifier:
    return CitationVerifier(embeddings)


def all_numbers(sentences: list[CitedSentence]) -> set[int]:
    return {n for s in sentences for n in s.citations}


# ---------------------------------------------------------------- parsing and rendering
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No date has been set [1][3].", [("No date has been set.", (1, 3))]),
        ("No date has been set [1, 3].", [("No date has been set.", (1, 3))]),
        ("No date has been set [1-3].", [("No date has been set.", (1, 2, 3))]),
        ("No date has been set [1–2]【4】.", [("No date has been set.", (1, 2, 4))]),
        ("No date has been set [source 2].", [("No date has been set.", (2,))]),
        ("No date has been set.[2]", [("No date has been set.", (2,))]),
    ],
)
def test_marker_formats_are_normalised(text: str, expected: list[tuple[str, tuple[int, ...]]]) -> None:
    assert split_cited_sentences(text) == expected


def test_markers_opening_the_next_sentence_belong_to_the_previous_one() -> None:
    text = "No date has been set. [1][2] Peskov said a venue was premature. [1]"
    assert split_cited_sentences(text) == [
        ("No date has been set.", (1, 2)),
        ("Peskov said a venue was premature.", (1,)),
    ]


def test_trailing_sources_section_and_markdown_are_dropped() -> None:
    text = (
        "**No** — as of 5 April 2025, no date has been set [2].\n"
        "- Quillon's revenue rose 12% [3]\n\n"
        "Sources:\n[2] Kyiv Ledger, 2025-04-04\n[3] Market Street Journal"
    )
    assert split_cited_sentences(text) == [
        ("No — as of 5 April 2025, no date has been set.", (2,)),
        ("Quillon's revenue rose 12%", (3,)),
    ]


def test_inline_sources_list_is_dropped() -> None:
    text = "No date has been set [1]. Sources: [1] Northline Wire, 5 April. [2] Kyiv Ledger."
    assert split_cited_sentences(text) == [("No date has been set.", (1,))]


def test_uncited_sentences_and_absurd_ranges() -> None:
    assert split_cited_sentences(NOT_IN_SOURCES) == [(NOT_IN_SOURCES, ())]
    assert split_cited_sentences("") == []
    # A "range" of 89 numbers is not expanded; its ends are kept (and verification removes them).
    assert split_cited_sentences("Odd [2-90].") == [("Odd.", (2, 90))]
    # Four-digit brackets are years or data, not markers.
    assert split_cited_sentences("Founded [1998].") == [("Founded [1998].", ())]


def test_render_places_markers_before_the_final_stop_and_round_trips() -> None:
    sentences = [
        CitedSentence("No date has been set.", (1, 3), 0.9, True),
        CitedSentence('Peskov said: "It is premature."', (1,), 0.8, True),
        CitedSentence(NOT_IN_SOURCES, (), 1.0, True),
    ]
    text = render(sentences)
    assert text == ('No date has been set [1][3]. Peskov said: "It is premature." [1] The indexed articles don\'t say.')
    assert split_cited_sentences(text) == [(s.text, s.citations) for s in sentences]


def test_content_words_normalise_lightly() -> None:
    assert content_words("The meetings were scheduled") == content_words("a meeting is scheduling")
    assert content_words("denied") == content_words("denies")
    assert "11400" in content_words("shared 11,400 times")
    assert "not" in content_words("It hasn't happened")


# ---------------------------------------------------------------- verification
def test_out_of_range_and_invented_citations_are_repaired_or_removed(
    verifier: CitationVerifier, sources: list[Source]
) -> None:
    result = verifier.verify(
        [
            ("Quillon's revenue rose 12% to $2.41 billion.", (5,)),  # 4 sources: [5] does not exist
            ("FC Lindenberg beat Rheinau Rovers 2-1 after extra time.", (0,)),
            ("The Kremlin said no date had been agreed for the meeting.", (1, 99)),
        ],
        sources,
    )
    assert [(s.text[:20], s.citations) for s in result.sentences] == [
        ("Quillon's revenue ro", (3,)),
        ("FC Lindenberg beat R", (4,)),
        ("The Kremlin said no ", (1,)),
    ]
    assert result.repaired == 3 and result.dropped == 0
    assert any("do not exist" in note for note in result.notes)
    assert all_numbers(result.sentences) <= {1, 2, 3, 4}


def test_invented_citation_on_an_unsupported_sentence_is_never_shown(
    verifier: CitationVerifier, sources: list[Source]
) -> None:
    sentences = [("Putin and Zelenskyy will meet in Geneva on 14 April.", (7,))]
    dropped = verifier.verify(sentences, sources)
    assert dropped.sentences == [] and dropped.dropped == 1
    flagged = verifier.verify(sentences, sources, drop_unsupported=False)
    assert flagged.sentences[0].citations == () and not flagged.sentences[0].supported


def test_unsupported_sentence_is_dropped(verifier: CitationVerifier, sources: list[Source]) -> None:
    result = verifier.verify(
        [
            ("The Kremlin said no date had been agreed for a meeting between Putin and Zelenskyy.", (1,)),
            ("Rheinau Rovers won the Alpine Cup final 3-0.", (4,)),
            ("Quillon's revenue fell 30% to $1.1 billion.", (3,)),
        ],
        sources,
    )
    assert [s.citations for s in result.sentences] == [(1,)]
    assert result.dropped == 2


def test_wrong_citation_is_moved_to_the_supporting_source(verifier: CitationVerifier, sources: list[Source]) -> None:
    result = verifier.verify([("Luca Meier scored the winner in the 112th minute.", (3,))], sources)
    assert result.sentences[0].citations == (4,)
    assert result.repaired == 1
    assert any("Re-attributed" in note for note in result.notes)


def test_non_supporting_extra_citation_is_removed(verifier: CitationVerifier, sources: list[Source]) -> None:
    result = verifier.verify([("Quillon's cloud security business grew 19% to $1.38 billion.", (3, 4))], sources)
    assert result.sentences[0].citations == (3,)


def test_uncited_supported_sentence_gets_its_source(verifier: CitationVerifier, sources: list[Source]) -> None:
    result = verifier.verify(
        [
            ("Kremlin spokesman Dmitry Peskov said it was premature to talk about a venue.", ()),
            (NOT_IN_SOURCES, ()),
            ("Analysts expect a summit before the summer.", ()),
        ],
        sources,
    )
    assert [(s.text, s.citations) for s in result.sentences] == [
        ("Kremlin spokesman Dmitry Peskov said it was premature to talk about a venue.", (1,)),
        (NOT_IN_SOURCES, ()),
    ]
    assert result.dropped == 1


def test_raw_text_is_accepted_and_multi_markers_verified(verifier: CitationVerifier, sources: list[Source]) -> None:
    text = "No date or venue had been agreed for a meeting [1, 2]. Reyes will meet Sybiha next week【2】."
    result = verifier.verify(text, sources)
    assert [s.citations for s in result.sentences] == [(1, 2), (2,)]


def test_support_score_is_higher_for_a_faithful_answer(verifier: CitationVerifier, sources: list[Source]) -> None:
    faithful = verifier.verify(
        [
            ("Kyiv said no date or venue had been agreed for a meeting of the presidents.", (2,)),
            ("Quillon's revenue rose 12% to $2.41 billion in the first quarter.", (3,)),
        ],
        sources,
        drop_unsupported=False,
    )
    made_up = verifier.verify(
        [
            ("Kyiv said the presidents will meet in Budapest on 20 April.", (2,)),
            ("Quillon cut 3,000 jobs after revenue fell 30%.", (3,)),
        ],
        sources,
        drop_unsupported=False,
    )
    assert faithful.support_score > 0.75
    assert made_up.support_score < verifier.threshold < faithful.support_score
    assert not any(s.supported for s in made_up.sentences)


def test_fixed_connectives_keep_only_real_citations(verifier: CitationVerifier, sources: list[Source]) -> None:
    quote = earlier_report_sentence(sources[0].title)
    result = verifier.verify([(quote, (1, 9)), ("That report was later denied.", (8,))], sources)
    assert [(s.text, s.citations) for s in result.sentences] == [(quote, (1,))]
    assert result.dropped == 1


def test_dates_a_source_wrote_as_weekdays_count_as_stated(verifier: CitationVerifier, sources: list[Source]) -> None:
    # Source 1 (published 2 April) says "on Wednesday"; an answer may date it, but not weeks later.
    dated = verifier.verify([("On 2 April 2025, the Kremlin said no date had been agreed.", (1,))], sources)
    assert [s.citations for s in dated.sentences] == [(1,)] and dated.repaired == 0
    wrong = verifier.verify([("On 19 April, the Kremlin said no date had been agreed.", (1,))], sources)
    assert wrong.sentences == [] or wrong.sentences[0].support < dated.sentences[0].support


def test_min_support_overrides_the_threshold(verifier: CitationVerifier, sources: list[Source]) -> None:
    sentence = [("Kyiv's foreign ministry said there was no date or place for a meeting.", (2,))]
    kept = verifier.verify(sentence, sources).sentences
    assert kept and verifier.threshold <= kept[0].support < 0.95
    assert not verifier.verify(sentence, sources, min_support=0.95).sentences


def test_verification_embeds_once_and_reuses_a_shared_cache(
    embeddings: LocalMiniLMEmbeddings, sources: list[Source]
) -> None:
    calls: list[int] = []

    class Counting(VectorCache):
        def vectors(self, texts: list[str]) -> object:  # type: ignore[override]
            calls.append(len(texts))
            return super().vectors(texts)

    verifier = CitationVerifier(embeddings, cache=Counting(embeddings))
    answer = [
        ("Kyiv said no date or venue had been agreed.", (2,)),
        ("The Kremlin called talk of a venue premature.", (1,)),
        ("Revenue at Quillon rose by 12%.", (3,)),
    ]
    verifier.verify(answer, sources)
    assert len(calls) == 1
    verifier.prepare(sources)
    before = len(verifier.cache)
    verifier.verify(answer, sources)
    assert len(verifier.cache) == before  # everything was already embedded


def test_vector_cache_is_bounded_and_keeps_order(embeddings: LocalMiniLMEmbeddings) -> None:
    cache = VectorCache(embeddings, max_items=3)
    first = cache.vectors(["alpha talks", "beta summit", "alpha talks"])
    assert first.shape == (3, 384) and (first[0] == first[2]).all()
    cache.vectors(["gamma", "delta", "epsilon"])
    assert len(cache) == 3
    again = cache.vectors(["alpha talks"])
    assert abs(float(again[0] @ first[0]) - 1.0) < 1e-5


class _CountingFacts(FactSupport):
    def __init__(self) -> None:
        super().__init__()
        self.checked: list[str] = []

    def check(self, statement: str, source: str | Sequence[str], threshold: float | None = None) -> FactVerdict:
        self.checked.append(statement)
        return super().check(statement, source, threshold)


def test_a_quoted_headline_with_a_full_stop_is_the_sources_own_text(
    embeddings: LocalMiniLMEmbeddings, sources: list[Source]
) -> None:
    """Engines end a headline they quote with a stop; that is still verbatim, so no fact check runs."""
    facts = _CountingFacts()
    checker = CitationVerifier(embeddings, facts=facts)
    headline = make_source(5, CUP, title="Lindenberg win Alpine Cup after extra time")
    result = checker.verify([("Lindenberg win Alpine Cup after extra time.", (5,))], [*sources, headline])
    assert [s.citations for s in result.sentences] == [(5,)] and result.sentences[0].supported
    assert facts.checked == []
    checker.verify([("Lindenberg won the Alpine Cup in extra time.", (5,))], [*sources, headline])
    assert facts.checked == ["Lindenberg won the Alpine Cup in extra time."]  # a paraphrase is checked
