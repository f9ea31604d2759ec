"""Digests end to end: a crafted three-day corpus (tests/data/digest) plus the shared seed
article, ingested with the real Indexer and embedding model."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult

from bot.app import Factdesk
from bot.core.errors import InvalidInputError, NotFoundError
from bot.core.settings import load_settings
from bot.digest.clustering import StoryClusterer, main_story_of
from bot.digest.content import load_window
from bot.digest.models import Digest
from bot.digest.service import DigestOptions, DigestService
from bot.digest.window import Window, day_window
from index.embeddings import LocalMiniLMEmbeddings
from index.store import ChunkStore
from tests.conftest import SEED_ARTICLE, TEST_DATA, Untouchable, app_for

CORPUS = TEST_DATA / "digest" / "corpus"
SEED_TITLE = (
    "U.S. President Trump rules out deployment of American troops in Ukraine as a component of security guarantees"
)
FROZEN = datetime(2025, 6, 20, tzinfo=UTC)
DAY1, DAY2, DAY3 = date(2025, 6, 10), date(2025, 6, 11), date(2025, 6, 12)


@pytest.fixture(scope="module")
def digest_index(tmp_path_factory: pytest.TempPathFactory, embeddings: LocalMiniLMEmbeddings) -> Path:
    """The digest corpus and (dated 11 June 2025) the seed article, indexed once per module."""
    data_dir = tmp_path_factory.mktemp("digest-index")
    sources = [str(CORPUS)]
    if SEED_ARTICLE.exists():
        record = {
            "title": SEED_TITLE,
            "body": SEED_ARTICLE.read_text(encoding="utf-8"),
            "source": "Seed Outlet",
            "url": "https://seed.test/trump-troops-ukraine",
            "published_at": "2025-06-11T12:00:00+00:00",
            "category": "world",
        }
        seed = tmp_path_factory.mktemp("seed") / "seed.jsonl"
        seed.write_text(json.dumps(record) + "\n", encoding="utf-8")
        sources.append(str(seed))
    with app_for(load_settings(None, data_dir=data_dir), embeddings) as app:
        report = app.ingest(sources)
    assert not report.errors, report.errors
    assert report.count("duplicate") == 1  # the Kell Bridge wire copy
    return data_dir


@pytest.fixture
def store(digest_index: Path, embeddings: LocalMiniLMEmbeddings) -> ChunkStore:
    return app_for(load_settings(None, data_dir=digest_index), embeddings).store


def history_app(digest_index: Path, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, llm: Any = None) -> Factdesk:
    """The application on the shared digest index, with a digest history of this test's own."""
    settings = load_settings(None, data_dir=digest_index, database_url=f"sqlite:///{tmp_path / 'factdesk.sqlite3'}")
    return app_for(settings, embeddings, llm)


@pytest.fixture
def service(digest_index: Path, embeddings: LocalMiniLMEmbeddings, tmp_path: Path) -> DigestService:
    svc = history_app(digest_index, embeddings, tmp_path / "history").digests
    svc.clock = lambda: FROZEN
    return svc


def _ids_by_title(store: ChunkStore) -> dict[str, str]:
    return {r.title: r.id for r in store.get_records().values() if r.status == "complete"}


def _story_of(digest: Digest, article_id: str) -> str:
    found = [s.story_id for s in digest.stories if article_id in s.article_ids and s.headline]
    assert found, f"{article_id} in no story"
    return found[0]


def _assert_citations_valid(digest: Digest) -> None:
    numbers = [s.number for s in digest.sources]
    assert numbers == list(range(1, len(numbers) + 1))
    cited: set[int] = set()
    for story in digest.stories:
        assert 1 <= len(story.summary) <= 4, story.headline
        for sentence in [*story.summary, *story.since_last]:
            assert sentence.citations, sentence.text
            assert set(sentence.citations) <= set(numbers), sentence
            cited.update(sentence.citations)
        for mark in story.disputed:
            if mark.source_number:
                cited.add(mark.source_number)
    assert cited == set(numbers)  # the list holds exactly the cited sources
    text = digest.to_markdown()
    for number in numbers:
        assert f"[{number}]" in text


def test_a_served_digest_reads_its_window_from_the_lexical_index(
    digest_index: Path, embeddings: LocalMiniLMEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same chunks and vectors as the store gives, without opening Chroma's chunk collection
    (whose first read loads every chunk vector into the bot's memory)."""
    app = app_for(load_settings(None, data_dir=digest_index), embeddings)
    window = Window(day_window(DAY1).start, day_window(DAY3).end)
    expected = load_window(app.store, window, 2)
    assert expected.chunks, "the window holds chunks"
    monkeypatch.setattr(app.store, "_chunks", Untouchable("Chroma's chunk collection"))
    served = load_window(app.store, window, 2, app.digests.chunks_from)
    assert served.chunks == expected.chunks and set(served.articles) == set(expected.articles)
    assert served.vectors.shape == expected.vectors.shape
    assert np.allclose(served.vectors, expected.vectors, atol=1e-6)
    assert all(c.index < 2 for c in served.chunks)
    empty = load_window(
        app.store,
        Window(datetime(2001, 1, 1, tzinfo=UTC), datetime(2001, 1, 2, tzinfo=UTC)),
        2,
        app.digests.chunks_from,
    )
    assert empty.chunks == [] and empty.vectors.shape[0] == 0


# ---------------------------------------------------------------- clustering
def test_clustering_groups_each_story_and_separates_the_rest(store: ChunkStore) -> None:
    content = load_window(store, Window(day_window(DAY1).start, day_window(DAY3).end))
    clusters = StoryClusterer(store.embeddings).cluster(content)
    owner = main_story_of(clusters)
    titles = {a.id: a.title for a in content.articles.values()}
    by_story: dict[str, set[str]] = {}
    for article_id, key in owner.items():
        title = titles[article_id].lower()
        label = next((k for k in ("kell", "gaza", "soho", "rovers", "quillon") if k in title), "ukraine")
        by_story.setdefault(label, set()).add(key)
    assert all(len(keys) == 1 for keys in by_story.values()), by_story
    keys = [next(iter(v)) for v in by_story.values()]
    assert len(set(keys)) == len(keys)  # different stories never share a cluster
    kell = next(c for c in clusters if next(iter(by_story["kell"])) == c.key)
    assert len(kell.main_ids) == 4
    assert set(kell.outlets) == {
        "Brackwater Gazette",
        "The Harbour Post",
        "Northline Wire",
    }  # wire copy counts
    assert content.undated == 1 and content.copies == 1


def test_mixed_topic_seed_article_contributes_to_several_stories(service: DigestService, store: ChunkStore) -> None:
    if not SEED_ARTICLE.exists():
        pytest.skip("shared seed article not available")
    seed_id = _ids_by_title(store)[SEED_TITLE]
    digest = service.get_or_create(day_window(DAY2))
    holding = [s for s in digest.stories if seed_id in s.article_ids]
    assert len(holding) >= 2, [s.headline for s in digest.stories]
    headlines = " | ".join(s.headline for s in holding)
    assert "Gaza" in headlines or "Soho" in headlines
    gaza = next(s for s in digest.stories if "Gaza" in s.headline)
    assert "Seed Outlet" in gaza.mentioned_in  # a passing mention is shown, not counted as coverage
    assert "Seed Outlet" not in gaza.outlets


# ---------------------------------------------------------------- digests
def test_digest_cites_only_listed_sources(service: DigestService) -> None:
    for day in (DAY1, DAY2, DAY3):
        digest = service.get_or_create(day_window(day))
        assert digest.stories and digest.engine == "extractive"
        _assert_citations_valid(digest)
        assert "1 article has no publication date" in digest.to_markdown()


def test_continuing_story_keeps_its_id_and_says_what_is_new(service: DigestService, store: ChunkStore) -> None:
    ids = _ids_by_title(store)
    first = service.get_or_create(day_window(DAY1))
    second = service.get_or_create(day_window(DAY2))
    third = service.get_or_create(day_window(DAY3))
    kell = _story_of(first, ids["Kell Bridge closed after inspectors find crack in main span"])
    assert _story_of(second, ids["Kell Bridge repairs will take six weeks, engineers say"]) == kell
    assert _story_of(third, ids["Kell Bridge footpath to reopen on Monday as steel plates go in"]) == kell
    gaza = _story_of(first, ids["Mediators circulate 60-day Gaza ceasefire plan"])
    assert _story_of(third, ids["Gaza truce talks resume in Doha as mediators seek hostage compromise"]) == gaza
    assert gaza != kell

    story = next(s for s in second.stories if s.story_id == kell)
    assert story.continuing and story.since_last
    assert story.first_seen.date() == DAY1
    new = story.since_last[0]
    assert new.citations
    assert "six weeks" in new.text or "crack" in new.text
    markdown = second.to_markdown()
    assert "**Since last digest:**" in markdown
    one_off = next(s for s in second.stories if "Soho" in s.headline)
    assert not one_off.continuing and not one_off.since_last

    timeline = service.story_timeline(kell)
    assert [e.window_start.date() for e in timeline.events] == [DAY1, DAY2, DAY3]
    assert timeline.latest is not None and timeline.latest.new
    assert "Kell Bridge" in timeline.render()
    found = service.find_stories("Kell Bridge repairs")
    assert found and found[0].id == kell
    assert service.find_stories("Gaza hostages ceasefire")[0].id == gaza
    with pytest.raises(NotFoundError):
        service.story_timeline("st-0000000000")
    with pytest.raises(InvalidInputError):
        service.find_stories("   ")


def test_same_window_is_served_from_history_unless_forced(service: DigestService) -> None:
    window = day_window(DAY2)
    first = service.get_or_create(window)
    again = service.get_or_create(window)
    assert again.from_history and again.digest_id == first.digest_id
    assert again.to_markdown() == first.to_markdown()
    forced = service.get_or_create(window, force=True)
    assert not forced.from_history and forced.digest_id != first.digest_id
    assert [s.story_id for s in forced.stories] == [s.story_id for s in first.stories]
    assert service.get_or_create(window).digest_id == forced.digest_id  # newest revision wins
    assert [d.digest_id for d in service.latest(2)] == [forced.digest_id, first.digest_id]
    assert json.loads(json.dumps(forced.to_dict()))["window"]["start"] == window.start.isoformat()


def test_topic_keeps_only_relevant_stories(service: DigestService) -> None:
    bridge = service.get_or_create(day_window(DAY2), topic="Kell Bridge")
    assert [s.headline for s in bridge.stories] == ["Kell Bridge repairs will take six weeks, engineers say"]
    assert bridge.topic == "Kell Bridge" and "Kell Bridge" in bridge.title()
    gaza = service.get_or_create(day_window(DAY2), topic="Gaza ceasefire")
    assert any("Gaza" in s.headline for s in gaza.stories)
    assert not any("Kell" in s.headline for s in gaza.stories)
    _assert_citations_valid(gaza)
    nothing = service.get_or_create(day_window(DAY2), topic="volcano eruption in Iceland")
    assert not nothing.stories and "No stories about" in nothing.to_markdown()


def test_empty_window_says_so(service: DigestService) -> None:
    digest = service.get_or_create(day_window(date(2025, 1, 1)))
    assert digest.empty and not digest.stories and not digest.sources
    text = digest.to_markdown()
    assert "No articles were published between 2025-01-01 00:00 and 2025-01-02 00:00 UTC." in text
    assert digest.to_dict()["message"].startswith("No articles were published")


def test_invalid_date_is_invalid_input(service: DigestService) -> None:
    with pytest.raises(InvalidInputError, match="YYYY-MM-DD"):
        service.window(day="2025-06-31")
    with pytest.raises(InvalidInputError):
        service.get_or_create(day_window(DAY2), topic="x" * 500)


def test_since_window_uses_the_injected_now(service: DigestService) -> None:
    window = service.window(since="24h", now=datetime(2025, 6, 11, 12, 0, tzinfo=UTC))
    digest = service.get_or_create(window)
    headlines = " | ".join(s.headline for s in digest.stories)
    assert "Gaza" in headlines and "Kell Bridge" in headlines and "Quillon" not in headlines
    assert all(window.contains(s.last_seen) for s in digest.stories)


# ---------------------------------------------------------------- disputed claims
@dataclass(frozen=True)
class _Claim:
    id: int
    text: str
    verdict: str
    note: str


@dataclass(frozen=True)
class _Match:
    claim: _Claim
    passage_index: int
    sentence: str
    similarity: float = 0.9


class _FakeMatcher:
    def __init__(self, needle: str) -> None:
        self.needle = needle
        self.seen: list[str] = []

    def match(self, passages: Sequence[str]) -> list[_Match]:
        self.seen.extend(passages)
        claim = _Claim(7, "Israel demands all 50 hostages be freed", "false", "checked with mediators")
        return [_Match(claim, i, self.needle) for i, p in enumerate(passages) if self.needle in p]


def test_disputed_claim_is_marked(digest_index: Path, embeddings: LocalMiniLMEmbeddings, tmp_path: Path) -> None:
    matcher = _FakeMatcher("all 50 hostages")
    service = history_app(digest_index, embeddings, tmp_path).digests
    service.claim_matcher = matcher  # type: ignore[assignment]
    service.clock = lambda: FROZEN
    digest = service.get_or_create(day_window(DAY2))
    gaza = next(s for s in digest.stories if "Gaza" in s.headline)
    assert gaza.disputed and gaza.disputed[0].verdict == "false"
    # Only stories whose passages repeat the claim (the seed's round-up chunk does too).
    assert not any(s.disputed for s in digest.stories if "Kell" in s.headline or "Soho" in s.headline)
    text = digest.to_markdown()
    assert "⚠ Disputed: “Israel demands all 50 hostages be freed” was rated FALSE by moderators" in text
    number = gaza.disputed[0].source_number
    assert number is not None and any(s.number == number for s in digest.sources)
    _assert_citations_valid(digest)
    assert matcher.seen  # the story's passages were checked


# ---------------------------------------------------------------- LLM summaries
class _BrokenChatModel(FakeListChatModel):
    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise TimeoutError("the model timed out")


def _llm_service(
    digest_index: Path, embeddings: LocalMiniLMEmbeddings, tmp_path: Path, model: FakeListChatModel
) -> DigestService:
    service = history_app(digest_index, embeddings, tmp_path, model).digests
    service.options = DigestOptions(max_stories=1)
    service.clock = lambda: FROZEN
    return service


def test_llm_summary_is_verified_and_records_the_prompt(
    digest_index: Path, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    answer = (
        "Repairs to Brackwater's Kell Bridge will take at least six weeks, county engineers said [1]. "
        "The mayor resigned over the bridge and fled to Spain [1]. "
        "The council said it would consider a rates holiday for the worst-affected shops [1][9]."
    )
    service = _llm_service(digest_index, embeddings, tmp_path, FakeListChatModel(responses=[answer]))
    digest = service.get_or_create(day_window(DAY2), topic="Kell Bridge")
    assert digest.engine == "llm" and digest.prompt_name == "digest" and len(digest.prompt_hash) == 12
    story = digest.stories[0]
    texts = " ".join(s.text for s in story.summary)
    assert "six weeks" in texts and "rates holiday" in texts
    assert "resigned" not in texts  # unsupported: dropped by the verifier
    _assert_citations_valid(digest)
    assert "prompt digest@" in digest.to_markdown()


def test_llm_error_falls_back_to_extractive_with_a_note(
    digest_index: Path, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    service = _llm_service(digest_index, embeddings, tmp_path, _BrokenChatModel(responses=["unused"]))
    digest = service.get_or_create(day_window(DAY2), topic="Kell Bridge")
    assert digest.stories and digest.stories[0].engine == "extractive"
    assert any("language model failed" in n for n in digest.notes)
    _assert_citations_valid(digest)


# ---------------------------------------------------------------- posting guard
def test_posting_guard_survives_a_restart(
    digest_index: Path, embeddings: LocalMiniLMEmbeddings, tmp_path: Path
) -> None:
    window = day_window(DAY2)
    first = history_app(digest_index, embeddings, tmp_path).digests
    assert not first.was_posted(window)
    assert first.mark_posted(window, channel_id=123, message_id=456)
    assert not first.mark_posted(window, channel_id=123, message_id=789)  # never twice
    restarted = history_app(digest_index, embeddings, tmp_path).digests  # a new process: a new application
    assert restarted.was_posted(window)
    assert not restarted.was_posted(day_window(DAY3))
    assert (tmp_path / "factdesk.sqlite3").exists()  # the one database: claims, digests, posted answers


# ---------------------------------------------------------------- CLI
def test_cli_prints_markdown_and_json(digest_index: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import bot.cli.digest  # noqa: F401  (registers the command)
    from bot.cli.app import app

    data_dir = tmp_path / "data"
    shutil.copytree(digest_index, data_dir)
    runner = CliRunner()
    base = ["--env-file", str(tmp_path / "none.env"), "--data-dir", str(data_dir), "digest"]
    result = runner.invoke(app, [*base, "--date", "2025-06-11", "--extractive"])
    assert result.exit_code == 0, result.output
    assert "# News digest: 11 June 2025" in result.output and "## Sources" in result.output
    result = runner.invoke(app, [*base, "--date", "2025-06-11", "--format", "json", "--extractive"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["from_history"] is True and data["stories"]
    result = runner.invoke(app, [*base, "--since", "24h", "--now", "2025-06-11T12:00:00Z", "--format", "json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, [*base, "--date", "2025-02-30"])
    assert result.exit_code == 1 and "YYYY-MM-DD" in result.output
    result = runner.invoke(app, [*base, "--date", "2025-06-11", "--since", "24h"])
    assert result.exit_code == 1
