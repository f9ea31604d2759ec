"""Page furniture (lines addressing the reader) never becomes a digest sentence; news sentences do (real spaCy)."""

from __future__ import annotations

import pytest

from bot.verify.furniture import FurnitureFilter


@pytest.fixture(scope="module")
def furniture() -> FurnitureFilter:
    return FurnitureFilter()


@pytest.mark.parametrize(
    "line",
    [
        "Read on for the full rundown of the best deals.",
        "Check back often for updates.",
        "Sign up for our morning newsletter.",
        "You can follow all the action live on our blog.",
        "Don't miss our coverage of the match.",
        "Follow us on social media for more.",
        "Click the link below to see the full list.",
    ],
)
def test_lines_addressing_the_reader_are_furniture(furniture: FurnitureFilter, line: str) -> None:
    assert furniture.is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "The council approved the budget on Wednesday.",
        '"Stop the war," the protesters shouted outside parliament.',
        "Investors should expect volatility, analysts said.",
        "Keep calm and carry on, the minister told MPs.",
        "Read the full report, published on 12 May, for the figures behind the 4.9 percent rise.",
        "You will pay 4.9 percent more council tax from April, the council said.",
    ],
)
def test_news_sentences_are_not_furniture(furniture: FurnitureFilter, line: str) -> None:
    assert not furniture.is_furniture(line)


def test_a_digest_summary_skips_lines_addressing_the_reader(furniture: FurnitureFilter) -> None:
    from bot.core.models import CitedSentence, Passage, Source
    from bot.digest.summary import StorySummarizer
    from bot.verify.citations import VerificationResult

    class Engine:
        def answer(self, question: str, sources: object, *, status_question: bool) -> list[tuple[str, tuple[int, ...]]]:
            return [("Read on for the full rundown of what the closure means for you.", (1,))]

    class Verifier:
        def verify(self, sentences: object, sources: object) -> VerificationResult:
            assert isinstance(sentences, list)
            return VerificationResult([CitedSentence(t, tuple(c), 1.0, True) for t, c in sentences])

    text = (
        "Check back often for updates on the Kell Bridge closure.\n"
        "Engineers found a crack in the Kell Bridge girder during an inspection on Monday.\n"
        "The Kell Bridge will stay closed to traffic for six weeks, the county said."
    )
    passage = Passage("c1", "a1", text, "Kell Bridge closed", "Gazette", None, None, 0, len(text))
    source = Source(1, "a1", "Kell Bridge closed", "Gazette", None, None, (passage,))
    summarizer = StorySummarizer(Engine(), Verifier(), furniture=furniture)
    result = summarizer.summarize("Kell Bridge closed after crack found", [source], "11 June 2025")
    texts = [s.text for s in result.sentences]
    assert texts and not any("Read on" in t or "Check back" in t for t in texts)
    assert any("crack" in t for t in texts)
