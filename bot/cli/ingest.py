"""``factdesk ingest``, ``stats`` and ``sources``."""

from __future__ import annotations

from collections import Counter

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from bot.cli.app import app, plain, state, user_errors
from bot.core.text.sanitize import clean_inline
from index.pipeline import IngestReport, ItemResult

_STATUS_STYLE = {
    "added": "green",
    "updated": "cyan",
    "unchanged": "dim",
    "duplicate": "yellow",
    "kept": "yellow",
    "error": "red",
}


@app.command()
@user_errors
def ingest(
    ctx: typer.Context,
    sources: list[str] = typer.Argument(..., help="Files, folders, JSON/JSONL, article URLs or RSS/Atom feeds."),
    show_all: bool = typer.Option(False, "--all", help="List every item, not only changes and errors."),
) -> None:
    """Load, clean, chunk and index articles; safe to rerun."""
    st = state(ctx)
    app = st.app
    with _progress(st.err) as progress:
        task = progress.add_task("ingesting", total=None)

        def on_item(item: ItemResult) -> None:
            label = clean_inline(item.title[:50] or item.source)
            progress.update(task, advance=1, description=f"{item.status}: {label}")

        report = app.ingest(sources, on_item)
    _print_report(st.console, report, show_all)
    if report.items and len(report.errors) == len(report.items):
        raise typer.Exit(1)


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _print_report(console: Console, report: IngestReport, show_all: bool) -> None:
    rows = [i for i in report.items if show_all or i.status not in ("unchanged",)]
    if rows:
        table = Table(title="Ingest", show_lines=False)
        table.add_column("status")
        table.add_column("title / source", overflow="fold")
        table.add_column("outlet")
        table.add_column("chunks", justify="right")
        table.add_column("detail", overflow="fold")
        for item in rows:
            style = _STATUS_STYLE.get(item.status, "")
            table.add_row(
                Text(item.status, style=style),
                plain(item.title or item.source),
                plain(item.outlet),
                str(item.chunks) if item.chunks else "",
                plain(item.detail),
            )
        console.print(table)
    counts = Counter(i.status for i in report.items)
    parts = [f"{counts.get(s, 0)} {s}" for s in ("added", "updated", "unchanged", "duplicate", "error")]
    if counts.get("kept"):
        parts.insert(3, f"{counts['kept']} kept (page fetch failed)")
    console.print(
        f"{', '.join(parts)}; {report.chunks_written} chunks written in {report.seconds:.1f}s",
        highlight=False,
    )


@app.command()
@user_errors
def stats(ctx: typer.Context) -> None:
    """Articles, chunks, outlets, date range and index size."""
    st = state(ctx)
    result = st.app.stats()
    table = Table(title="Index", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("articles", str(result.articles))
    table.add_row("near-duplicate copies", str(result.duplicates))
    table.add_row("incomplete (rerun ingest)", str(result.pending))
    table.add_row("chunks", str(result.chunks))
    table.add_row("outlets", str(result.outlets))
    table.add_row("undated articles", str(result.undated))
    table.add_row("first published", result.first.isoformat() if result.first else "-")
    table.add_row("last published", result.last.isoformat() if result.last else "-")
    table.add_row("embedding model", plain(result.embedding_model))
    table.add_row("index size", _size(result.size_bytes) if result.size_bytes is not None else "(server)")
    st.console.print(table)


@app.command()
@user_errors
def sources(ctx: typer.Context) -> None:
    """Outlets in the index with article counts and date ranges."""
    st = state(ctx)
    result = st.app.stats()
    table = Table(title="Sources")
    table.add_column("outlet")
    table.add_column("articles", justify="right")
    table.add_column("also carried", justify="right")
    table.add_column("first")
    table.add_column("last")
    for row in result.by_outlet:
        table.add_row(
            plain(row.outlet),
            str(row.articles),
            str(row.copies) if row.copies else "",
            row.first.date().isoformat() if row.first else "-",
            row.last.date().isoformat() if row.last else "-",
        )
    st.console.print(table)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{n} B"
        size /= 1024
    return f"{n} B"
