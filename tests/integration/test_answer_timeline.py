"""'What's the latest on X' answers carry the story's timeline from the digest history."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.settings import Settings
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import app_for


@dataclass(frozen=True)
class FakeStory:
    id: str


@dataclass(frozen=True)
class FakeTimeline:
    text: str

    def render(self) -> str:
        return self.text


class FakeTimelines:
    def __init__(self) -> None:
        self.queries: list[str] = []

    def find_stories(self, query: str, limit: int = 5) -> list[FakeStory]:
        self.queries.append(query)
        return [FakeStory("st-1")] if "Putin" in query else []

    def story_timeline(self, story_id: str) -> FakeTimeline:
        return FakeTimeline(f"Putin–Zelenskyy meeting ({story_id})\n- 2025-04-03: denied\n- 2025-04-05: no date")


def test_latest_question_gets_the_timeline(sample_settings: Settings, embeddings: LocalMiniLMEmbeddings) -> None:
    timelines = FakeTimelines()
    answerer = app_for(sample_settings, embeddings).answerer
    answerer.timelines = timelines
    answer = answerer.ask("What's the latest on the Putin–Zelenskyy meeting?")
    assert answer.timeline.endswith("2025-04-05: no date")
    assert "Story so far" in answer.render() and answer.to_dict()["timeline"] == answer.timeline

    plain = answerer.ask("Who won the Alpine Cup final?")
    assert plain.timeline == ""
    assert timelines.queries == ["What's the latest on the Putin–Zelenskyy meeting?"]


def test_named_outlet_is_quoted(sample_settings: Settings, embeddings: LocalMiniLMEmbeddings) -> None:
    answerer = app_for(sample_settings, embeddings).answerer
    answer = answerer.ask("What did Northline Wire report about Geneva?")
    cited = [s for s in answer.sources if s.number in answer.cited_numbers()]
    assert cited and all("Northline Wire" in (s.outlet, *s.also_in) for s in cited), answer.render()
