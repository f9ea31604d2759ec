"""``factdesk digest``: the news of a day or of the last hours, as stories with cited summaries."""

from __future__ import annotations

import json

import typer

from bot.cli.app import app, state, user_errors
from bot.core.clock import parse_now
from bot.core.errors import InvalidInputError
from bot.core.text.sanitize import clean_untrusted

FORMATS = ("md", "json")


@app.command()
@user_errors
def digest(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, "--since", help="24h, 90m, 2d, 1w or 2025-04-03 (default 24h, at most 31d)."
    ),
    date: str | None = typer.Option(None, "--date", help="A calendar day YYYY-MM-DD in the configured timezone."),
    topic: str | None = typer.Option(None, "--topic", help="Only stories about this topic."),
    output: str = typer.Option("md", "--format", help="md (Markdown) or json."),
    force: bool = typer.Option(False, "--force", help="Make the digest again even if one is stored."),
    now: str | None = typer.Option(None, "--now", help="Pretend it is this ISO time (for --since windows)."),
    extractive: bool = typer.Option(False, "--extractive", help="Never use the LLM, even if one is configured."),
) -> None:
    """Cluster the window's articles into stories and print a cited digest (stored, so reruns are instant)."""

    if output.lower() not in FORMATS:
        raise InvalidInputError(f"--format {output!r}: use md or json")
    st = state(ctx)
    window = st.app.window(since, date, parse_now(now))
    result = st.app.digest(window, topic=topic, force=force, extractive=extractive)
    if output.lower() == "json":
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(clean_untrusted(result.to_markdown()))
