"""Rendering core results for Discord: limits, splitting, escaping (pure functions, no bot)."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import discord
import pytest

from bot.answer.models import Answer, ClaimWarning
from bot.claims.models import ClaimStatus, SuggestionStatus, Verdict
from bot.claims.service import ClaimView, SuggestionView
from bot.digest.window import Window, day_window
from bot.discord import render
from bot.discord.preview import embed_to_text, message_to_text
from tests.discord_fakes.services import make_answer, make_digest, make_source

LINK = re.compile(r"\[[^\[\]\n]*\]\([^()\s]*\)")
MARKERS = re.compile(r"\[\d+\](?:\[\d+\])*")


def assert_within_limits(embeds: list[discord.Embed]) -> None:
    for embed in embeds:
        assert len(embed.title or "") <= render.TITLE_LIMIT
        assert len(embed.description or "") <= render.DESCRIPTION_LIMIT
        assert len(embed.fields) <= render.FIELD_COUNT_LIMIT
        for f in embed.fields:
            assert 0 < len(f.name or "") <= render.FIELD_NAME_LIMIT
            assert 0 < len(f.value or "") <= render.FIELD_VALUE_LIMIT
        assert len(embed.footer.text or "") <= render.FOOTER_LIMIT
        assert len(embed) <= render.EMBED_TOTAL_LIMIT
    for group in render.group_embeds(embeds):
        assert 1 <= len(group) <= render.EMBEDS_PER_MESSAGE
        assert sum(len(e) for e in group) <= render.EMBED_TOTAL_LIMIT


def long_answer(n_sources: int = 40) -> Answer:
    sentence = "Officials in both capitals said preparations continue and no date has been fixed yet"
    text = " ".join(f"{sentence} (point {i}) [{i % n_sources + 1}][{(i + 1) % n_sources + 1}]." for i in range(90))
    sources = [make_source(n, title=f"A very long headline about the summit, number {n} " * 3) for n in range(1, 41)]
    warnings = [
        ClaimWarning(
            i,
            f"The meeting was confirmed for Geneva, variant {i}",
            "false",
            "No date set " * 5,
            datetime(2025, 4, 3, tzinfo=UTC),
            1,
        )
        for i in range(12)
    ]
    return make_answer(
        text,
        sources=sources,
        warnings=warnings,
        disagreements=["Harbour Times says mid-April; Northline says no date." * 3] * 6,
    )


def test_long_answer_fits_every_discord_limit_and_loses_nothing() -> None:
    answer = long_answer()
    embeds = render.answer_embeds(answer)

    assert_within_limits(embeds)
    assert len(embeds) > 1 and len(render.group_embeds(embeds)) > 1  # it really had to split
    descriptions = " ".join(e.description or "" for e in embeds)
    assert " ".join(descriptions.split()) == " ".join(render.escape(answer.text).split())
    fields = "\n".join(str(f.value) for e in embeds for f in e.fields if str(f.name).startswith("Sources"))
    assert all(f"[{n}] [" in fields for n in range(1, 41))  # every cited source listed
    names = [f.name for e in embeds for f in e.fields]
    assert "⚠ Disputed claims" in names and "Sources disagree" in names and "Sources (continued)" in names


def test_short_answer_is_one_embed_with_sources_and_footer() -> None:
    embeds = render.answer_embeds(make_answer())
    assert len(embeds) == 1
    embed = embeds[0]
    assert embed.title == "Is the meeting scheduled?"
    assert embed.description == "No date has been set for the meeting [1][2]. Officials say talks continue [2]."
    assert [f.name for f in embed.fields] == ["Sources"]
    assert str(embed.fields[0].value).splitlines() == [
        "[1] [Story number 1](https://news.example/1) — Harbour Times, 2025-04-02",
        "[2] [Story number 2](https://news.example/2) — Northline, 2025-04-03",
    ]
    assert embed.footer.text == "as of 2025-04-05 · engine: llm · support 0.81 · prompt answer@0123456789ab"


def test_only_cited_sources_are_listed() -> None:
    answer = make_answer("Only one source says so [2].", sources=[make_source(1), make_source(2)])
    answer.sources = [make_source(1), make_source(2)]
    value = str(render.answer_embeds(answer)[0].fields[0].value)
    assert value.startswith("[2] ") and "[1]" not in value


def test_refusal_is_plain() -> None:
    answer = make_answer("The indexed articles don't say. Nothing in the index answers this.", refused=True)
    answer.notes = ["No sentence of the draft answer was supported by the sources."]
    embeds = render.answer_embeds(answer)
    assert len(embeds) == 1
    assert embeds[0].colour == render.REFUSAL_COLOUR
    assert [f.name for f in embeds[0].fields] == ["Notes"]
    assert "support" not in (embeds[0].footer.text or "")


def test_article_text_cannot_mention_format_or_link() -> None:
    answer = make_answer("Hey @everyone and <@123456789012345678>, *read* [this](https://evil.example) now [1].")
    description = render.answer_embeds(answer)[0].description or ""
    assert "@everyone" not in description and "<@123456789012345678>" not in description
    assert "\\*read\\*" in description
    assert not LINK.search(description)  # the masked link is broken
    assert description.endswith("now [1].")  # citation markers survive escaping


def test_links_are_safe() -> None:
    odd = make_source(1, title="Talks [update] (live)", url="https://news.example/a b(c)")
    assert render.source_line(odd).startswith("[1] [Talks (update) (live)](https://news.example/a%20b%28c%29) — ")
    assert render.link("Click", "javascript:alert(1)") == "Click"
    assert render.link("Local", "file:///etc/passwd") == "Local"
    assert render.link("Long", "https://x.example/" + "a" * 600) == "Long"


def random_text(rng: random.Random, words: int) -> str:
    parts: list[str] = []
    for i in range(words):
        roll = rng.random()
        if roll < 0.05:
            parts.append(f"[Headline {i} with words](https://news.example/{i}?q={i})")
        elif roll < 0.15:
            parts.append(f"claim{i} " + "".join(f"[{rng.randint(1, 12)}]" for _ in range(rng.randint(1, 3))) + ".")
        elif roll < 0.18:
            parts.append(f"https://bare.example/path/{i}")
        elif roll < 0.2:
            parts.append("\n\n")
        else:
            parts.append(rng.choice(["the", "talks", "summit", "Geneva", "officials", "said", "date"]) + str(i))
    return " ".join(parts)


@pytest.mark.parametrize("limit", [64, 97, 256, 1024])  # >= the longest link
def test_split_never_breaks_links_markers_or_urls(limit: int) -> None:
    rng = random.Random(limit)
    for _ in range(30):
        text = random_text(rng, rng.randint(50, 600))
        pieces = render.split_text(text, limit)
        assert all(0 < len(p) <= limit for p in pieces)
        assert " ".join(" ".join(pieces).split()) == " ".join(text.split())  # nothing lost or reordered
        for token in [*LINK.findall(text), *re.findall(r"https://bare\.example/path/\d+", text)]:
            assert any(token in p for p in pieces), token
        for piece in pieces:  # a marker run is never separated from its word or cut in half
            assert not re.match(r"\[\d+\]", piece), piece
            assert not re.search(r"\[\d*$", piece), piece


def test_split_prefers_paragraphs_then_sentences() -> None:
    text = "First paragraph sentence one. Sentence two.\n\nSecond paragraph here. And more."
    assert render.split_text(text, 50) == [
        "First paragraph sentence one. Sentence two.",
        "Second paragraph here. And more.",
    ]
    assert render.split_text("One two three. Four five six.", 20) == ["One two three.", "Four five six."]


def test_split_keeps_source_lines_whole() -> None:
    lines = [f"[{n}] [Title {n}](https://news.example/{n}) — Outlet, 2025-04-0{n}" for n in range(1, 10)]
    pieces = render.split_text("\n".join(lines), 130)
    assert [line for p in pieces for line in p.splitlines()] == lines


def test_pack_lines_splits_only_at_line_ends() -> None:
    lines = [f"line {i} " + "x" * 90 for i in range(30)]
    packed = render.pack_lines(lines, 1024)
    assert all(len(p) <= 1024 for p in packed)
    assert [line for p in packed for line in p.splitlines()] == lines


def test_preview_keeps_the_tail_under_2000() -> None:
    text = "word " * 1000 + "the latest words"
    preview = render.preview_text(text)
    assert len(preview) <= render.CONTENT_LIMIT
    assert preview.startswith("…") and preview.endswith("the latest words …")
    assert "@\u200beveryone" in render.preview_text("ping @everyone")


def test_sources_embeds_show_passages_with_spans() -> None:
    embeds = render.sources_embeds(make_answer())
    assert [e.title for e in embeds] == ["[1] Story number 1", "[2] Story number 2"]
    assert "characters 100–180" in (embeds[0].description or "")
    assert (embeds[0].description or "").count("\n> ") >= 1
    assert embeds[0].url == "https://news.example/1"


def window() -> Window:
    return day_window(datetime(2025, 6, 10).date(), "Europe/London")


def test_digest_embeds_stay_within_limits() -> None:
    digest = make_digest(window())
    digest.stories = digest.stories * 30  # 60 stories
    embeds = render.digest_embeds(digest)
    assert_within_limits(embeds)
    assert embeds[0].title == "News digest: 10 June 2025"
    first = embeds[0].fields[0]
    assert first.name == "1. Gaza ceasefire plan presented"
    assert "three-stage ceasefire plan [1]." in str(first.value)
    assert "⚠ Disputed: “The plan was signed” was rated FALSE" in str(first.value)
    assert "Generated" in (embeds[-1].footer.text or "")


def test_empty_digest_says_so() -> None:
    digest = make_digest(window(), stories=0)
    digest.article_count = 0
    embeds = render.digest_embeds(digest)
    assert (embeds[0].description or "").startswith("No articles were published")


def test_digest_text_fallback_is_split_under_2000_without_breaking_links() -> None:
    digest = make_digest(window())
    digest.stories = digest.stories * 20
    pieces = render.digest_text(digest)
    assert len(pieces) > 1 and all(len(p) <= render.CONTENT_LIMIT for p in pieces)
    joined = "\n".join(pieces)
    assert joined.count("https://news.example/1") == digest.to_markdown().count("https://news.example/1")


def claim(**changes: object) -> ClaimView:
    values: dict[str, object] = {
        "id": 12,
        "text": "The summit was confirmed for Geneva @everyone",
        "normalized_text": "summit confirmed geneva",
        "verdict": Verdict.FALSE,
        "note": "No date has been agreed.",
        "evidence_urls": ("https://kremlin.example/statement",),
        "flagged_by": "500000000000000001",
        "flagged_by_name": "mod#0",
        "flagged_at": datetime(2025, 4, 3, 10, tzinfo=UTC),
        "origin": "https://discord.com/channels/1/2/3",
        "status": ClaimStatus.OPEN,
        "resolved_at": None,
        "updated_at": datetime(2025, 4, 3, 10, tzinfo=UTC),
        "flag_count": 2,
    }
    values.update(changes)
    return ClaimView(**values)  # type: ignore[arg-type]


def test_claim_embed() -> None:
    embed = render.claim_embed(claim())
    assert embed.title == "Claim #12 · FALSE"
    assert "@everyone" not in (embed.description or "")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Evidence"] == "[kremlin.example](https://kremlin.example/statement)"
    assert fields["Origin"] == "[original message](https://discord.com/channels/1/2/3)"
    assert fields["Flags"] == "2"
    assert embed.footer.text == "Flagged by mod#0 on 2025-04-03"
    resolved = render.claim_embed(claim(status=ClaimStatus.RESOLVED, resolved_at=datetime(2025, 4, 4, tzinfo=UTC)))
    assert resolved.title == "Claim #12 · FALSE (resolved)"


def test_claims_list_newest_first() -> None:
    embeds = render.claims_list_embeds([claim(id=1), claim(id=3), claim(id=2)], "open")
    assert embeds[0].title == "3 open claims"
    assert [int(m) for m in re.findall(r"\*\*#(\d+)\*\*", embeds[0].description or "")] == [3, 2, 1]


def test_suggestion_embed_footer_names_its_id() -> None:
    suggestion = SuggestionView(
        id=5,
        kind="date",
        text_a="The talks are set for 14 April.",
        source_a="[1] Harbour Times",
        text_b="No date has been set for the talks.",
        source_b="[2] Northline",
        explanation="The sources give different dates.",
        status=SuggestionStatus.PENDING,
        created_at=datetime(2025, 4, 3, tzinfo=UTC),
        decided_by=None,
        decided_at=None,
        claim_id=None,
    )
    embed = render.suggestion_embed(suggestion)
    assert embed.title == "Suggested flag #5: date contradiction"
    assert [f.name for f in embed.fields] == ["Statement A", "Statement B"]
    match = render.SUGGESTION_FOOTER.match(embed.footer.text or "")
    assert match and match.group(1) == "5"


def test_preview_renders_embeds_as_text() -> None:
    text = message_to_text(render.answer_embeds(make_answer()))
    assert text.startswith("## Is the meeting scheduled?\n\nNo date has been set")
    assert "**Sources**\n[1] [Story number 1](https://news.example/1)" in text
    assert text.endswith("-# as of 2025-04-05 · engine: llm · support 0.81 · prompt answer@0123456789ab")
    assert embed_to_text(discord.Embed(title="T")) == "## T"
