"""Digest and story data: what the service returns, the history stores and front ends render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.models import CitedSentence, Source
from bot.core.render import source_line
from bot.digest.window import Window


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: object) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _sentence_from(data: dict[str, Any]) -> CitedSentence:
    return CitedSentence(
        text=str(data["text"]),
        citations=tuple(int(n) for n in data.get("citations", [])),
        support=float(data.get("support", 0.0)),
        supported=bool(data.get("supported", False)),
    )


def render_sentence(sentence: CitedSentence) -> str:
    """The sentence with its ``[n]`` markers (added only if the text does not already end with them)."""
    marks = "".join(f"[{n}]" for n in sentence.citations)
    text = sentence.text.rstrip()
    if not marks or text.endswith(marks):
        return text
    if text[-1:] in ".!?" and not text.endswith("..."):
        return f"{text[:-1]} {marks}{text[-1]}"
    return f"{text} {marks}"


@dataclass(frozen=True, slots=True)
class DisputedMark:
    """A moderator-flagged claim repeated in one of the story's passages."""

    claim_id: int
    claim: str
    verdict: str
    note: str
    source_number: int | None
    sentence: str

    def render(self) -> str:
        note = f" — {self.note}" if self.note else ""
        where = f" (repeated in [{self.source_number}])" if self.source_number else ""
        return f"⚠ Disputed: “{self.claim}” was rated {self.verdict.upper()} by moderators{note}{where}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "claim": self.claim,
            "verdict": self.verdict,
            "note": self.note,
            "source": self.source_number,
            "sentence": self.sentence,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DisputedMark:
        return cls(
            claim_id=int(data["claim_id"]),
            claim=str(data["claim"]),
            verdict=str(data["verdict"]),
            note=str(data.get("note", "")),
            source_number=data.get("source"),
            sentence=str(data.get("sentence", "")),
        )


@dataclass(slots=True)
class DigestStory:
    """One story as a digest shows it."""

    story_id: str
    headline: str
    summary: list[CitedSentence]
    outlets: tuple[str, ...]
    article_ids: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    continuing: bool = False
    mentioned_in: tuple[str, ...] = ()
    since_last: list[CitedSentence] = field(default_factory=list)
    disputed: list[DisputedMark] = field(default_factory=list)
    engine: str = "extractive"

    def cited_numbers(self) -> list[int]:
        numbers: list[int] = []
        for sentence in [*self.summary, *self.since_last]:
            numbers.extend(n for n in sentence.citations if n not in numbers)
        numbers.extend(m.source_number for m in self.disputed if m.source_number and m.source_number not in numbers)
        return numbers

    def to_dict(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "headline": self.headline,
            "summary": [s.to_dict() for s in self.summary],
            "summary_text": " ".join(render_sentence(s) for s in self.summary),
            "outlets": list(self.outlets),
            "article_ids": list(self.article_ids),
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "continuing": self.continuing,
            "mentioned_in": list(self.mentioned_in),
            "since_last": [s.to_dict() for s in self.since_last],
            "disputed": [m.to_dict() for m in self.disputed],
            "engine": self.engine,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DigestStory:
        first = _dt(data["first_seen"])
        last = _dt(data["last_seen"])
        assert first is not None and last is not None
        return cls(
            story_id=str(data["story_id"]),
            headline=str(data["headline"]),
            summary=[_sentence_from(s) for s in data.get("summary", [])],
            outlets=tuple(data.get("outlets", [])),
            article_ids=tuple(data.get("article_ids", [])),
            first_seen=first,
            last_seen=last,
            continuing=bool(data.get("continuing", False)),
            mentioned_in=tuple(data.get("mentioned_in", [])),
            since_last=[_sentence_from(s) for s in data.get("since_last", [])],
            disputed=[DisputedMark.from_dict(m) for m in data.get("disputed", [])],
            engine=str(data.get("engine", "extractive")),
        )


@dataclass(slots=True)
class Digest:
    """A digest of one window (and optional topic): ranked stories, sources, and how it was made."""

    window: Window
    topic: str | None
    generated_at: datetime
    stories: list[DigestStory]
    sources: list[Source]  # without passages
    article_count: int = 0  # articles in the digest's stories (all the window's without a topic)
    story_count: int = 0
    undated_count: int = 0
    window_articles: int = 0
    engine: str = "extractive"
    prompt_name: str = ""
    prompt_hash: str = ""
    notes: list[str] = field(default_factory=list)
    digest_id: int | None = None
    from_history: bool = False

    @property
    def empty(self) -> bool:
        """No dated article at all was published in the window."""
        return self.window_articles == 0

    def empty_message(self) -> str:
        start = self.window.start.astimezone(self.window.zone)
        end = self.window.end.astimezone(self.window.zone)
        span = f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} {self.window.timezone}"
        if self.window_articles == 0 or not self.topic:
            return f"No articles were published {span}."
        return f"No stories about “{self.topic}” among the {self.window_articles} articles published {span}."

    def title(self) -> str:
        topic = f" — {self.topic}" if self.topic else ""
        return f"News digest: {self.window.label()}{topic}"

    def footer(self) -> list[str]:
        lines: list[str] = []
        shown = len(self.stories)
        if self.story_count > shown:
            lines.append(f"{self.story_count - shown} smaller stories are not shown.")
        if self.undated_count:
            noun = "article has" if self.undated_count == 1 else "articles have"
            lines.append(f"{self.undated_count} {noun} no publication date and could not be placed in any window.")
        lines.extend(self.notes)
        how = "extractive summaries" if self.engine == "extractive" else f"{self.engine} summaries"
        prompt = f", prompt {self.prompt_name}@{self.prompt_hash}" if self.prompt_name else ""
        lines.append(f"Generated {self.generated_at:%Y-%m-%d %H:%M} UTC with {how}{prompt}.")
        return lines

    def to_markdown(self) -> str:
        parts = [f"# {self.title()}"]
        if not self.stories:
            parts.append(self.empty_message())
        else:
            parts.append(
                f"_{self.article_count} articles, {self.story_count} stories; "
                f"ranked by the number of outlets covering each._"
            )
        for rank, story in enumerate(self.stories, start=1):
            block = [f"## {rank}. {story.headline}"]
            block.append(" ".join(render_sentence(s) for s in story.summary) or "_No summary could be cited._")
            if story.since_last:
                block.append("**Since last digest:** " + " ".join(render_sentence(s) for s in story.since_last))
            block.extend(m.render() for m in story.disputed)
            first = story.first_seen.astimezone(self.window.zone)
            plural = "s" if len(story.outlets) != 1 else ""
            also = f" Also mentioned by {', '.join(story.mentioned_in)}." if story.mentioned_in else ""
            block.append(
                f"_Covered by {len(story.outlets)} outlet{plural}: {', '.join(story.outlets)}.{also} "
                f"First seen {first:%Y-%m-%d}{' (continuing story)' if story.continuing else ''}._"
            )
            parts.append("\n\n".join(block))
        if self.sources:
            parts.append("## Sources\n" + "\n".join(source_line(s) for s in self.sources))
        parts.append("---\n" + "\n".join(f"- {line}" for line in self.footer()))
        return "\n\n".join(parts) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.digest_id,
            "window": self.window.to_dict(),
            "label": self.window.label(),
            "topic": self.topic,
            "generated_at": self.generated_at.isoformat(),
            "article_count": self.article_count,
            "story_count": self.story_count,
            "undated_count": self.undated_count,
            "window_articles": self.window_articles,
            "message": self.empty_message() if not self.stories else None,
            "stories": [s.to_dict() for s in self.stories],
            "sources": [s.to_dict(passages=False) for s in self.sources],
            "engine": self.engine,
            "prompt": {"name": self.prompt_name, "hash": self.prompt_hash},
            "notes": list(self.notes),
            "from_history": self.from_history,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Digest:
        generated = _dt(data["generated_at"])
        assert generated is not None
        prompt = data.get("prompt") or {}
        return cls(
            window=Window.from_dict(data["window"]),
            topic=data.get("topic"),
            generated_at=generated,
            stories=[DigestStory.from_dict(s) for s in data.get("stories", [])],
            sources=[Source.from_dict(s) for s in data.get("sources", [])],
            article_count=int(data.get("article_count", 0)),
            story_count=int(data.get("story_count", 0)),
            undated_count=int(data.get("undated_count", 0)),
            window_articles=int(data.get("window_articles", data.get("article_count", 0))),
            engine=str(data.get("engine", "extractive")),
            prompt_name=str(prompt.get("name", "")),
            prompt_hash=str(prompt.get("hash", "")),
            notes=list(data.get("notes", [])),
            digest_id=data.get("id"),
        )


@dataclass(frozen=True, slots=True)
class StoryEvent:
    """One window's news on a story: its articles there and what was new."""

    story_id: str
    window_start: datetime
    window_end: datetime
    article_ids: tuple[str, ...]
    headline: str
    summary: tuple[str, ...]
    new: tuple[str, ...]
    outlets: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "article_ids": list(self.article_ids),
            "headline": self.headline,
            "summary": list(self.summary),
            "new": list(self.new),
            "outlets": list(self.outlets),
        }


@dataclass(frozen=True, slots=True)
class Story:
    """A story as the history knows it, across every window it appeared in."""

    id: str
    headline: str
    first_seen: datetime
    last_seen: datetime
    article_ids: tuple[str, ...]
    outlets: tuple[str, ...]
    entities: tuple[str, ...]
    score: float = 0.0  # relevance when returned by a search

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "headline": self.headline,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "article_ids": list(self.article_ids),
            "outlets": list(self.outlets),
            "entities": list(self.entities),
            "score": round(self.score, 4),
        }


@dataclass(frozen=True, slots=True)
class StoryTimeline:
    """A story and its events, oldest first: what the answering chain reads for "what's the latest"."""

    story: Story
    events: tuple[StoryEvent, ...]

    @property
    def latest(self) -> StoryEvent | None:
        return self.events[-1] if self.events else None

    def render(self) -> str:
        lines = [f"{self.story.headline} (story {self.story.id})"]
        for event in self.events:
            what = " ".join(event.new or event.summary[:1]) or event.headline
            lines.append(f"- {event.window_start:%Y-%m-%d}: {what}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"story": self.story.to_dict(), "events": [e.to_dict() for e in self.events]}
