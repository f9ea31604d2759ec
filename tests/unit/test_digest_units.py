"""Digest building blocks that need no model: windows, entities, linkage, clustering at scale."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from bot.core.clock import parse_span
from bot.core.errors import ConfigError, InvalidInputError
from bot.core.models import CitedSentence, Passage, Source
from bot.core.prompts import PromptLibrary
from bot.core.settings import PROMPTS_DIR
from bot.digest.clustering import StoryClusterer, main_story_of
from bot.digest.content import WindowArticle, WindowChunk, WindowContent
from bot.digest.entities import EntityVocabulary, capitalised_words
from bot.digest.linkage import average_linkage
from bot.digest.models import Digest, DigestStory, render_sentence
from bot.digest.summary import StorySummarizer
from bot.digest.window import Window, day_window, resolve_window
from bot.verify.citations import VerificationResult

NOW = datetime(2025, 6, 12, 9, 30, 15, 123456, tzinfo=UTC)


# ---------------------------------------------------------------- windows
def test_default_window_is_the_last_24_hours() -> None:
    window = resolve_window(now=NOW)
    assert window.end == NOW.replace(microsecond=0)
    assert window.end - window.start == timedelta(hours=24)


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("24h", timedelta(hours=24)),
        ("90m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_since_spans(text: str, span: timedelta) -> None:
    assert parse_span(text) == span
    assert resolve_window(since=text, now=NOW).start == NOW.replace(microsecond=0) - span


@pytest.mark.parametrize("text", ["", "24", "h", "-1h", "0h", "yesterday"])
def test_bad_since_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_span(text)


@pytest.mark.parametrize("text", ["24", "h", "-1h", "0h", "40d", "yesterday", "2025-04-03"])
def test_bad_digest_since_is_invalid_input(text: str) -> None:
    """A digest covers at most 31 days: ``40d`` (or a day two months back) is refused like nonsense."""
    with pytest.raises(InvalidInputError):
        resolve_window(since=text, now=NOW)


def test_digest_since_accepts_a_day_as_the_one_since_parser_does() -> None:
    window = resolve_window(since="2025-06-10", now=NOW, timezone="Europe/London")
    assert window.start == datetime(2025, 6, 9, 23, 0, tzinfo=UTC)  # BST midnight
    assert window.end == NOW.replace(microsecond=0)


@pytest.mark.parametrize("text", ["2025-13-01", "2025-02-30", "11/06/2025", "yesterday", ""])
def test_bad_date_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError, match="--date"):
        resolve_window(day=text, now=NOW) if text else resolve_window(day="  ", now=NOW)


def test_since_and_date_together_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="either"):
        resolve_window(since="24h", day="2025-06-11", now=NOW)


def test_date_is_a_local_day() -> None:
    window = resolve_window(day="2025-06-11", timezone="Europe/London")
    assert window.start == datetime(2025, 6, 10, 23, 0, tzinfo=UTC)  # BST midnight
    assert window.end == datetime(2025, 6, 11, 23, 0, tzinfo=UTC)
    assert window.local_day() == date(2025, 6, 11)
    assert window.label() == "11 June 2025"


def test_dst_change_day_has_23_hours() -> None:
    window = day_window(date(2025, 3, 30), "Europe/London")
    assert window.end - window.start == timedelta(hours=23)


def test_unknown_timezone_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        resolve_window(day="2025-06-11", timezone="Mars/Olympus")


def test_window_needs_aware_ordered_bounds() -> None:
    with pytest.raises(InvalidInputError):
        Window(datetime(2025, 6, 2), datetime(2025, 6, 3))
    with pytest.raises(InvalidInputError):
        Window(NOW, NOW)


def test_partial_window_label_is_a_range() -> None:
    window = resolve_window(since="6h", now=NOW)
    assert window.local_day() is None
    assert "–" in window.label()


# ---------------------------------------------------------------- entities
def test_entities_skip_sentence_openers_but_keep_names() -> None:
    text = (
        "Analysts say Hamas and Israel disagree. Meanwhile the U.S. envoy met Volodymyr Zelenskyy. "
        "Israel said on Monday that Soho House, the club, was sold."
    )
    mid, initial = capitalised_words(text)
    assert "analysts" in initial and "analysts" not in mid
    vocabulary = EntityVocabulary([text])
    names = vocabulary.entities(text)
    assert {"hamas", "israel", "us", "volodymyr zelenskyy", "soho house"} <= names
    assert "analysts" not in names and "monday" not in names and "meanwhile" not in names


# ---------------------------------------------------------------- linkage
def _naive(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    groups = [[i] for i in range(len(similarity))]
    while True:
        best, pair = -np.inf, None
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                score = float(np.mean([similarity[a, b] for a in groups[i] for b in groups[j]]))
                if score > best:
                    best, pair = score, (i, j)
        if pair is None or best < threshold:
            return sorted(sorted(g) for g in groups)
        i, j = pair
        groups[i] += groups[j]
        del groups[j]


def test_average_linkage_matches_the_naive_algorithm() -> None:
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(6, 32))
    points = np.repeat(centres, 8, axis=0) + rng.normal(scale=1.0, size=(48, 32))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    similarity = points @ points.T
    for threshold in (0.2, 0.4, 0.6):
        assert sorted(average_linkage(similarity, threshold)) == _naive(similarity, threshold)


def test_average_linkage_empty_and_single() -> None:
    assert average_linkage(np.zeros((0, 0)), 0.5) == []
    assert average_linkage(np.ones((1, 1)), 0.5) == [[0]]


# ---------------------------------------------------------------- clustering at scale
class _RandomEmbeddings:
    model_name = "random"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed_array(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        vectors = np.random.default_rng(len(texts)).normal(size=(len(texts), 64)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_array([text])[0].tolist()


def _synthetic_window(n_stories: int, per_story: int, chunks: int) -> WindowContent:
    rng = np.random.default_rng(3)
    start = datetime(2025, 6, 11, tzinfo=UTC)
    window = Window(start, start + timedelta(days=1))
    centres = rng.normal(size=(n_stories, 64))
    articles: dict[str, WindowArticle] = {}
    rows: list[WindowChunk] = []
    vectors: list[np.ndarray] = []
    for s in range(n_stories):
        for k in range(per_story):
            article_id = f"a{s:03d}-{k}"
            articles[article_id] = WindowArticle(
                article_id,
                f"Story {s} report {k}",
                f"Outlet {k}",
                None,
                start + timedelta(minutes=s + k),
                None,
            )
            for c in range(chunks):
                text = (
                    f"The council of Placename{s} met Officer{s} Smith and Officer{s + 1} Jones today.\n\n"
                    f"Residents of Placename{s} and Hamlet{(s + 3) % n_stories} spoke at length about it."
                )
                rows.append(WindowChunk(f"{article_id}:{c}", article_id, c, text, c * 200, c * 200 + len(text)))
                vectors.append(centres[s] + rng.normal(scale=0.6, size=64))
    matrix = np.asarray(vectors, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return WindowContent(window, articles, rows, matrix)


def test_hundreds_of_articles_cluster_in_seconds() -> None:
    content = _synthetic_window(n_stories=125, per_story=4, chunks=8)  # 500 articles, 4000 chunks
    embeddings = _RandomEmbeddings()
    started = time.perf_counter()
    clusters = StoryClusterer(embeddings).cluster(content)
    elapsed = time.perf_counter() - started
    assert elapsed < 20, elapsed
    assert sum(embeddings.calls) <= 48  # paragraph checks are capped
    owner = main_story_of(clusters)
    assert len(owner) == 500
    for s in range(125):
        assert len({owner[f"a{s:03d}-{k}"] for k in range(4)}) == 1


# ---------------------------------------------------------------- rendering
def test_render_sentence_puts_markers_before_the_stop() -> None:
    assert render_sentence(CitedSentence("It opened.", (1, 3), 1.0, True)) == "It opened [1][3]."
    assert render_sentence(CitedSentence("No marks", (), 1.0, True)) == "No marks"


def test_digest_round_trips_through_its_dict() -> None:
    window = day_window(date(2025, 6, 11))
    story = DigestStory(
        story_id="st-0123456789",
        headline="Bridge shut",
        summary=[CitedSentence("The bridge shut.", (1,), 0.9, True)],
        outlets=("A", "B"),
        article_ids=("x", "y"),
        first_seen=window.start,
        last_seen=window.start + timedelta(hours=2),
        continuing=True,
        since_last=[CitedSentence("Repairs take six weeks.", (2,), 1.0, True)],
    )
    digest = Digest(
        window=window,
        topic=None,
        generated_at=NOW,
        stories=[story],
        sources=[
            Source(1, "x", "Bridge shut", "A", "https://a.test/x", window.start),
            Source(2, "y", "Six weeks", "B", None, window.start, also_in=("C",)),
        ],
        article_count=2,
        window_articles=2,
        story_count=1,
        undated_count=1,
    )
    again = Digest.from_dict(digest.to_dict())
    assert again.to_markdown() == digest.to_markdown()
    text = digest.to_markdown()
    assert "**Since last digest:** Repairs take six weeks [2]." in text
    assert "[2] Six weeks — B (also: C), 2025-06-11." in text
    assert "1 article has no publication date" in text


# ---------------------------------------------------------------- summaries
class _OneSentenceEngine:
    def answer(
        self, question: str, sources: Sequence[Source], *, status_question: bool
    ) -> list[tuple[str, tuple[int, ...]]]:
        return [("Subscribe to our newsletter for more.", (1,)), ("The bridge was closed on Tuesday morning.", (1,))]


class _TrustingVerifier:
    def verify(self, sentences: object, sources: Sequence[Source]) -> VerificationResult:
        assert isinstance(sentences, list)
        return VerificationResult([CitedSentence(t, tuple(c), 1.0, True) for t, c in sentences])


def _source(number: int, text: str) -> Source:
    passage = Passage(f"c{number}", f"a{number}", text, "Kell Bridge closed", "Gazette", None, None, 0, len(text))
    return Source(number, f"a{number}", "Kell Bridge closed", "Gazette", None, None, (passage,))


def test_extractive_summary_drops_page_furniture_and_pads_from_the_sources() -> None:
    summarizer = StorySummarizer(_OneSentenceEngine(), _TrustingVerifier())
    text = (
        "Save articles for later Add articles to your saved list and come back to them any time.\n"
        "Engineers found a crack in the Kell Bridge girder during an inspection.\n"
        "Weather will be mild this weekend across the whole of the county."
    )
    result = summarizer.summarize("Kell Bridge closed after crack found", [_source(1, text)], "11 June 2025")
    assert [s.text for s in result.sentences] == [
        "The bridge was closed on Tuesday morning.",
        "Engineers found a crack in the Kell Bridge girder during an inspection.",
    ]
    assert all(s.citations == (1,) for s in result.sentences)


def test_llm_summary_needs_the_prompt() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    with pytest.raises(ValueError):
        StorySummarizer(_OneSentenceEngine(), _TrustingVerifier(), FakeListChatModel(responses=["x"]))


def test_digest_prompt_declares_its_variables() -> None:
    prompt = PromptLibrary(PROMPTS_DIR).get("digest")
    assert prompt.variables == ["headline", "sources", "window"]
    assert len(prompt.content_hash) == 12


class _RecordingAnnotations:
    def __init__(self) -> None:
        self.primed: list[list[str]] = []

    def prime(self, passages: Sequence[Passage]) -> None:
        self.primed.append([p.chunk_id for p in passages])


def test_a_summary_reads_the_parses_stored_for_its_passages_first() -> None:
    annotations = _RecordingAnnotations()
    summarizer = StorySummarizer(_OneSentenceEngine(), _TrustingVerifier(), annotations=annotations)
    summarizer.summarize("Kell Bridge closed", [_source(1, "One."), _source(2, "Two.")], "11 June 2025")
    assert annotations.primed == [["c1", "c2"]]
    summarizer.summarize("Nothing", [], "11 June 2025")
    assert len(annotations.primed) == 1  # no sources, nothing to read
