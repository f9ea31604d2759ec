"""End to end on a small index of our own pages: a swapped answer in one source is shown as a disagreement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import Factdesk
from bot.core.settings import load_settings
from index.embeddings import LocalMiniLMEmbeddings
from tests.conftest import app_for

PAGE = """---
title: "{title}"
outlet: "{outlet}"
published_at: "2026-03-0{day}T09:00:00+00:00"
---
{body}
"""


def _write(folder: Path, name: str, **fields: str) -> None:
    (folder / f"{name}.md").write_text(PAGE.format(**fields), encoding="utf-8")


@pytest.fixture
def app(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> Iterator[Factdesk]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write(
        corpus,
        "a",
        title="League picks host city for the 2028 final",
        outlet="Riverside Courier",
        day="2",
        body="The league said on Monday that the 2028 championship final will be played in Tampa, Florida. "
        "Officials expect about 70,000 visitors for the final week.",
    )
    _write(
        corpus,
        "b",
        title="Host city named for 2028 championship final",
        outlet="Valley Gazette",
        day="3",
        body="The league said on Monday that the 2028 championship final will be played in Glendale, Arizona. "
        "Ticket sales open in the autumn.",
    )
    _write(
        corpus,
        "c",
        title="Library extends weekend hours",
        outlet="Riverside Courier",
        day="1",
        body="The central library will open on Sundays from April, the council said.",
    )
    with app_for(load_settings(None, data_dir=tmp_path / "data"), embeddings) as app:
        report = app.ingest([str(corpus)])
        assert not report.errors
        yield app


def test_a_swapped_city_is_shown_as_sources_disagree_naming_both_outlets(app: Factdesk) -> None:
    answer = app.ask("Where will the 2028 championship final be played?")
    assert not answer.refused
    assert answer.disagreements, answer.text
    line = answer.disagreements[0]
    assert "Riverside Courier" in line and "Valley Gazette" in line
    assert "Tampa" in line and "Glendale" in line


def test_an_altered_copy_is_not_merged_into_the_original(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    body = (
        "The league said on Monday that the 2028 championship final will be played in {city}. "
        "Officials expect about 70,000 visitors for the final week, and hotels are already filling up. "
        "The decision followed a two-year bidding process in which five cities took part. "
        "League officials praised the stadium's new roof and its transport links."
    )
    _write(
        corpus,
        "a",
        title="Final host named",
        outlet="Riverside Courier",
        day="2",
        body=body.format(city="Tampa, Florida"),
    )
    _write(
        corpus,
        "b",
        title="Final host named",
        outlet="Valley Gazette",
        day="3",
        body=body.format(city="Glendale, Arizona"),
    )
    _write(corpus, "c", title="Final host named", outlet="Hill Times", day="4", body=body.format(city="Tampa, Florida"))
    with app_for(load_settings(None, data_dir=tmp_path / "data"), embeddings) as app:
        report = app.ingest([str(corpus)])
    statuses = sorted(r.status for r in report.items)
    assert statuses == ["added", "added", "duplicate"], [(r.outlet, r.status) for r in report.items]
    duplicate = next(r for r in report.items if r.status == "duplicate")
    assert duplicate.outlet == "Hill Times"


def test_reference_markers_in_article_text_never_reach_the_answer(
    tmp_path: Path, embeddings: LocalMiniLMEmbeddings
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write(
        corpus,
        "a",
        title="Harbour ferry returns",
        outlet="Riverside Courier",
        day="2",
        body="The harbour ferry will resume service on Tuesday after repairs to its engine [7]. "
        "The council paid 40,000 euros for the repairs [12][13], officials said [99].",
    )
    with app_for(load_settings(None, data_dir=tmp_path / "data"), embeddings) as app:
        app.ingest([str(corpus)])
        answer = app.ask("When will the harbour ferry resume service?")
    assert not answer.refused
    import re

    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert numbers and numbers <= {s.number for s in answer.sources}, answer.text
    assert "[7]" not in answer.text and "[99]" not in answer.text
