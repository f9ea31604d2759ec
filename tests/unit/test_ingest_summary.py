"""The ingest summary says what happened to each feed item, in the CLI and in Discord."""

from __future__ import annotations

from rich.console import Console

from bot.cli.ingest import _print_report
from bot.discord.render import ingest_embed
from index.pipeline import IngestReport, ItemResult

KEPT = "kept stored full text; page fetch failed: HTTP 503 from news.example"
MATCHED = "matched the article stored under the same feed GUID"


def report() -> IngestReport:
    return IngestReport(
        items=[
            ItemResult("https://news.example/feed.xml#0:summary", "kept", "Council approves estate", "Crier", 0, KEPT),
            ItemResult("https://news.example/feed.xml#1", "updated", "Ferry timetable", "Crier", 3, MATCHED),
        ],
        seconds=0.5,
        chunks_written=3,
    )


def test_cli_summary_names_kept_items_and_guid_matches() -> None:
    console = Console(record=True, width=200)
    _print_report(console, report(), show_all=False)
    text = console.export_text()
    assert KEPT in text and MATCHED in text
    assert "0 added, 1 updated, 0 unchanged, 1 kept (page fetch failed), 0 duplicate, 0 error" in text


def test_discord_summary_counts_kept_items() -> None:
    embed = ingest_embed(report(), "the feeds")
    assert embed.description is not None
    assert embed.description.startswith("1 updated, 1 kept their stored text (page fetch failed); 3 chunks")
    items = "\n".join(str(field.value) for field in embed.fields)
    assert f"kept: Council approves estate — {KEPT}" in items
    assert f"updated: Ferry timetable — {MATCHED}" in items
